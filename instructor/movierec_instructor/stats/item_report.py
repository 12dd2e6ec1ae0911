"""``movierec stats``: the item analysis of one assignment as CSV, JSON and an HTML page.

The page needs no network and runs no script: each chart is drawn to SVG here (vl-convert,
as the course's own charts are) and its Vega-Lite specification is kept beside it in an
inert ``<script type="application/vnd.vegalite+json">`` block for tools to read back.
Failure details are students' outputs: escaped in the page, neutralised in the CSV.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import altair as alt
import pandas as pd

from movierec_instructor.integrity.untrusted import add_csp, write_csv
from movierec_instructor.stats.item_analysis import (
    CheckStats,
    analyse,
    as_json,
    class_results,
    exercise_scores,
)

COLUMNS = [
    "exercise",
    "check",
    "hidden",
    "points",
    "students",
    "passed",
    "pass_rate",
    "mean_points",
    "discrimination",
    "flag",
    "common_failures",
]


def pass_rate_chart(stats: list[CheckStats]) -> alt.Chart:
    """One bar per check, sorted by pass rate (hardest first), flagged checks in orange."""
    table = pd.DataFrame(
        {
            "check": [f"{s.check.exercise}: {s.check.label}"[:90] for s in stats],
            "pass rate": [round(s.pass_rate, 4) for s in stats],
            "flagged": ["flagged" if s.flag else "ok" for s in stats],
        }
    )
    return (
        alt.Chart(table, title="Share of students passing each check (hardest first)")
        .mark_bar()
        .encode(
            x=alt.X("pass rate:Q", title="share of students who passed", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("check:N", title="check", sort=alt.EncodingSortField("pass rate", order="ascending")),
            color=alt.Color(
                "flagged:N",
                title="flag",
                scale=alt.Scale(domain=["ok", "flagged"], range=["#4c78a8", "#f58518"]),
            ),
        )
        .properties(width=420)
    )


def score_histogram(exercise: str, scores: list[float]) -> alt.Chart:
    """How many students got each score in one exercise."""
    counts = pd.Series(scores, dtype=float).round(2).value_counts().sort_index()
    table = pd.DataFrame({"points": counts.index.to_numpy(), "students": counts.to_numpy()})
    return (
        alt.Chart(table, title=f"{exercise}: points per student")
        .mark_bar()
        .encode(x=alt.X("points:O", title="points in the exercise"), y=alt.Y("students:Q", title="students"))
        .properties(width=220, height=160)
    )


def _svg(chart: alt.Chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())


def _spec_block(name: str, chart: alt.Chart) -> str:
    spec = json.dumps(chart.to_dict()).replace("</", "<\\/")
    return f'<script type="application/vnd.vegalite+json" data-chart="{html.escape(name)}">{spec}</script>'


def write_stats(course: Path, assignment: str, out: Path | None = None) -> dict[str, Path]:
    """Writes ``stats-<assignment>.csv``, ``.json`` and ``.html`` from the autograded notebooks.

    Args:
        course: the course directory (``solutions/``, ``autograded/``).
        assignment: the assignment id.
        out: the folder for the files (default: the course directory).

    Returns:
        ``{"csv": path, "json": path, "html": path}``.

    Raises:
        FileNotFoundError: nobody has been graded for the assignment yet.
    """
    course = Path(course).resolve()
    out = Path(out or course)
    out.mkdir(parents=True, exist_ok=True)
    checks, results = class_results(course, assignment)
    if not results:
        raise FileNotFoundError(
            f"no autograded notebooks of {assignment} under {course / 'autograded'}: "
            f"run `movierec autograde {assignment}` first"
        )
    stats = analyse(checks, results)
    rows = [
        [
            s.check.exercise,
            s.check.label,
            s.check.hidden,
            s.check.points,
            s.students,
            s.passed,
            round(s.pass_rate, 4),
            round(s.mean_points, 4),
            "" if s.discrimination is None else round(s.discrimination, 4),
            s.flag,
            " | ".join(f"{n}x {d[:120]}" for d, n in s.failures.most_common(3)),
        ]
        for s in stats
    ]
    paths = {"csv": write_csv(out / f"stats-{assignment}.csv", COLUMNS, rows)}
    paths["json"] = out / f"stats-{assignment}.json"
    paths["json"].write_text(as_json(stats), encoding="utf-8")

    charts = [("pass rates", pass_rate_chart(stats))]
    charts += [
        (f"exercise {e}", score_histogram(e, scores))
        for e, scores in exercise_scores(checks, results).items()
    ]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    figures = "".join(f"<figure>{_svg(chart)}{_spec_block(name, chart)}</figure>" for name, chart in charts)
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(assignment)}: checks</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
        "figure{display:inline-block;margin:8px}</style></head><body>"
        f"<h1>{html.escape(assignment)}: what grading says about each check</h1>"
        f"<p>{len(results)} students. Discrimination: correlation of passing with the rest of the total; "
        "flagged checks are worth a look.</p>"
        f"{figures}<table><tr>{head}</tr>{body}</table></body></html>"
    )
    paths["html"] = out / f"stats-{assignment}.html"
    paths["html"].write_text(add_csp(page), encoding="utf-8")
    return paths
