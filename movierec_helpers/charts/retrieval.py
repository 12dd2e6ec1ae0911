"""Charts of retrieval measurements: recall against cost and speed, and catalogue growth.

Wall-clock figures (queries per second, milliseconds per query) differ on every run and
machine; the charts declare them in ``usermeta["movierec"]["timing_fields"]`` so that tools
comparing stored charts check only that they are positive numbers (tests/nbval_tolerance.py).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from movierec_helpers.charts.interactive import rounded, series_encodings


def recall_cost_chart(measurements: pd.DataFrame) -> alt.HConcatChart:
    """Recall@10 of each index configuration against its cost: distances per query, and speed.

    Args:
        measurements: one row per configuration with ``M``, ``ef_search``, ``recall@10``,
            ``distances per query`` and ``queries per second``.

    Returns:
        Two panels side by side, one line per ``M``; hover a point for its parameters.
    """
    table = rounded(
        measurements[["M", "ef_search", "recall@10", "distances per query", "queries per second"]], 4
    )
    base = (
        alt.Chart(table)
        .mark_line(point=True)
        .encode(
            y=alt.Y("recall@10:Q", title="recall@10 against exact search", scale=alt.Scale(zero=False)),
            **series_encodings("M:N", "M (neighbours per node)"),
            tooltip=["M:O", "ef_search:Q", "recall@10:Q", "distances per query:Q", "queries per second:Q"],
        )
    )
    cost = base.encode(
        x=alt.X("distances per query:Q", title="distances computed per query (machine-independent cost)")
    )
    speed = base.encode(
        x=alt.X(
            "queries per second:Q",
            title="queries per second (this machine, one thread)",
            scale=alt.Scale(type="log"),
        )
    )
    return alt.hconcat(cost.properties(width=300), speed.properties(width=300)).properties(
        usermeta={"movierec": {"timing_fields": ["queries per second"]}}
    )


def catalogue_scaling_chart(table: pd.DataFrame) -> alt.Chart:
    """Milliseconds per query of exact and approximate search as the catalogue grows.

    Args:
        table: one row per (catalogue size, method) with ``items``, ``method`` and
            ``ms per query``.

    Returns:
        A log-log line chart, one line per method.
    """
    return (
        alt.Chart(
            rounded(table[["items", "method", "ms per query"]], 4), title="Search time as the catalogue grows"
        )
        .mark_line(point=True)
        .encode(
            x=alt.X("items:Q", title="items in the catalogue", scale=alt.Scale(type="log")),
            y=alt.Y(
                "ms per query:Q", title="milliseconds per query (this machine)", scale=alt.Scale(type="log")
            ),
            **series_encodings("method:N", "search"),
        )
        .properties(width=360, usermeta={"movierec": {"timing_fields": ["ms per query"]}})
    )
