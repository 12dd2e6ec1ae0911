"""A chart of how list metrics move with one re-ranking parameter (accuracy against the rest)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from movierec_helpers.charts.interactive import rounded


def tradeoff_chart(table: pd.DataFrame, parameter: str) -> alt.HConcatChart:
    """One small panel per metric against ``parameter``, side by side.

    Args:
        table: one row per parameter value, the parameter's column and one column per metric.
        parameter: the column on the x axes (e.g. ``"lambda"``).

    Returns:
        The panels, each with its metric as the y-axis title.
    """
    metrics = [c for c in table.columns if c != parameter]
    panels = [
        alt.Chart()
        .mark_line(point=True)
        .encode(
            x=alt.X(
                f"{parameter}:Q", title=f"{parameter} (1 = relevance only)", scale=alt.Scale(reverse=True)
            ),
            y=alt.Y(f"{metric}:Q", title=metric, scale=alt.Scale(zero=False)),
            tooltip=[f"{parameter}:Q", alt.Tooltip(f"{metric}:Q", format=".3f")],
        )
        .properties(width=160, height=160)
        for metric in metrics
    ]
    return alt.hconcat(*panels, data=rounded(table, 4))


def model_comparison_chart(table: pd.DataFrame, label: str = "model") -> alt.HConcatChart:
    """One bar panel per metric column, a bar per model: models compared on each metric side by side.

    Args:
        table: one row per model, its name in the ``label`` column and one column per metric.
        label: the column that names the models (on the y axes).

    Returns:
        The panels, each with its metric as the x-axis title and the bars in the table's order.
    """
    metrics = [c for c in table.columns if c != label]
    order = list(table[label])
    panels = [
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", title=metric),
            y=alt.Y(f"{label}:N", title=label, sort=order),
            tooltip=[f"{label}:N", alt.Tooltip(f"{metric}:Q", format=".3f")],
        )
        .properties(width=200, height=25 * len(order))
        for metric in metrics
    ]
    return alt.hconcat(*panels, data=rounded(table, 4))
