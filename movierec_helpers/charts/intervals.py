"""A chart of metrics per model with their confidence intervals (one panel per metric)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from movierec_helpers.charts.interactive import rounded


def interval_chart(table: pd.DataFrame, model: str = "model") -> alt.HConcatChart:
    """Each model's value of each metric as a point, its interval as a horizontal rule.

    Models are named on the y axis of every panel (no colour needed to tell them apart).

    Args:
        table: one row per model and metric, with columns ``model``, ``metric``, ``value``,
            ``low`` and ``high``.
        model: the name of the model column.

    Returns:
        One panel per metric, side by side, each with its own x scale.
    """
    missing = {model, "metric", "value", "low", "high"} - set(table.columns)
    if missing:
        raise ValueError(f"the table needs the columns {sorted(missing)}.")
    order = list(dict.fromkeys(table[model]))
    panels = []
    for metric in dict.fromkeys(table["metric"]):
        rows = rounded(table[table["metric"] == metric][[model, "value", "low", "high"]], 4)
        y = alt.Y(f"{model}:N", title=None, sort=order)
        rule = alt.Chart(rows).mark_rule().encode(y=y, x=alt.X("low:Q", title=metric), x2="high:Q")
        point = (
            alt.Chart(rows)
            .mark_point(filled=True, size=60)
            .encode(
                y=y,
                x=alt.X("value:Q", title=metric, scale=alt.Scale(zero=False)),
                tooltip=[
                    f"{model}:N",
                    alt.Tooltip("value:Q", format=".3f"),
                    alt.Tooltip("low:Q", format=".3f"),
                    alt.Tooltip("high:Q", format=".3f"),
                ],
            )
        )
        panels.append((point + rule).properties(width=200, height=25 * len(order), title=metric))
    return alt.hconcat(*panels).properties(
        description="Each model's mean over users with its 95% bootstrap interval (the horizontal line)"
    )
