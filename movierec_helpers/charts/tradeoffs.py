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
