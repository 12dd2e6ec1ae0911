"""``movierec stats``: the item analysis of one assignment as CSV, JSON and an HTML page.

The page needs no network and runs no script: each chart is drawn to SVG here (vl-convert,
as the course's own charts are) and its Vega-Lite specification is kept beside it in an
inert ``<script type="application/vnd.vegalite+json">`` block for tools to read back.
Each chart is an image named by its title (``role="img"``, a ``<title>``) and described in
words by its caption (:func:`describe_pass_rates`, :func:`describe_histogram`); flagged checks
are orange *and* labelled ``(flagged)``. The page is
:mod:`~movierec_instructor.integrity.report_page`'s (WCAG 2.1 AA). Failure details are
students' outputs: escaped in the page, neutralised in the CSV.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import altair as alt
import pandas as pd

from movierec_instructor.integrity.report_page import page, table
from movierec_instructor.integrity.untrusted import write_csv
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
# ok and flagged bars: 4.6:1 and 4.6:1 against the white background (WCAG 2.1 asks 3:1 of graphics).
BAR_COLOURS = ["#4c78a8", "#c05600"]
NUMERIC = {"points", "students", "passed", "pass_rate", "mean_points", "discrimination"}


def check_label(s: CheckStats) -> str:
    """A check's label in the charts: ``exercise: label``, with ``(flagged)`` before a flagged one."""
    return ("(flagged) " if s.flag else "") + f"{s.check.exercise}: {s.check.label}"[:90]


def pass_rate_chart(stats: list[CheckStats]) -> alt.Chart:
    """One bar per check, sorted by pass rate (hardest first), flagged checks in orange and labelled so."""
    table = pd.DataFrame(
        {
            "check": [check_label(s) for s in stats],
            "pass rate": [round(s.pass_rate, 4) for s in stats],
            "flagged": ["flagged" if s.flag else "ok" for s in stats],
        }
    )
    return (
        alt.Chart(table, title="Share of students passing each check (hardest first)")
        .mark_bar()
        .encode(
            x=alt.X("pass rate:Q", title="share of students who passed", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y(
                "check:N",
                title="check",
                sort=alt.EncodingSortField("pass rate", order="ascending"),
                axis=alt.Axis(labelLimit=320),
            ),
            color=alt.Color(
                "flagged:N", title="flag", scale=alt.Scale(domain=["ok", "flagged"], range=BAR_COLOURS)
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


def describe_pass_rates(stats: list[CheckStats]) -> str:
    """The pass-rate chart in words: what a bar is, the range of pass rates, the flagged checks."""
    order = sorted(stats, key=lambda s: s.pass_rate)
    students = max((s.students for s in stats), default=0)
    text = (
        f"One bar per check ({len(stats)} checks), as long as the share of the {students} students who "
        f"passed it, hardest first: from {order[0].pass_rate:.0%} ({order[0].check.exercise}: "
        f"{order[0].check.label}) to {order[-1].pass_rate:.0%} ({order[-1].check.exercise}: "
        f"{order[-1].check.label})."
    )
    flagged = [f"{s.check.exercise}: {s.check.label} ({s.flag})" for s in stats if s.flag]
    text += (
        f" Flagged, in orange and labelled (flagged): {'; '.join(flagged)}."
        if flagged
        else " No check is flagged."
    )
    return text + " The table Per check below has every check's numbers."


def describe_histogram(exercise: str, scores: list[float]) -> str:
    """A histogram in words: how many students got each number of points in the exercise."""
    counts = pd.Series(scores, dtype=float).round(2).value_counts().sort_index()
    parts = [f"{n} with {points:g} point{'' if points == 1 else 's'}" for points, n in counts.items()]
    return f"{exercise}: points per student, {len(scores)} students: {', '.join(parts)}."


def chart_figure(index: int, name: str, chart: alt.Chart, words: str) -> str:
    """A chart as an accessible figure: the SVG as an image named by its title, described by a caption.

    Args:
        index: the chart's number in the page (for the ids).
        name: the chart's name in its Vega-Lite block (``data-chart``).
        chart: the chart.
        words: what the chart shows, in words (the figure's caption).

    Returns:
        ``<figure>``: the SVG (``role="img"``, a ``<title>``, described by the caption), the
        inert Vega-Lite block, and the ``<figcaption>``.
    """
    title = chart.to_dict().get("title", name)
    title = title.get("text", name) if isinstance(title, dict) else title
    ids = f"chart-{index}-title", f"chart-{index}-caption"
    svg = _svg(chart).replace(
        "<svg ", f'<svg role="img" aria-labelledby="{ids[0]}" aria-describedby="{ids[1]}" ', 1
    )
    start = svg.index(">") + 1
    svg = f'{svg[:start]}<title id="{ids[0]}">{html.escape(str(title))}</title>{svg[start:]}'
    return (
        f"<figure>{svg}{_spec_block(name, chart)}"
        f'<figcaption id="{ids[1]}">{html.escape(words)}</figcaption></figure>'
    )


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

    charts = [("pass rates", pass_rate_chart(stats), describe_pass_rates(stats))]
    charts += [
        (f"exercise {e}", score_histogram(e, scores), describe_histogram(e, scores))
        for e, scores in exercise_scores(checks, results).items()
    ]
    figures = "".join(chart_figure(i, *chart) for i, chart in enumerate(charts, 1))
    summary = (
        f"<p>{len(results)} students. Discrimination: correlation of passing with the rest of the total; "
        "flagged checks are worth a look.</p>"
    )
    per_check = table(f"Per check: {assignment}", COLUMNS, rows, numeric=NUMERIC)
    body = f"<h2>Charts</h2>{figures}<h2>Per check</h2>{per_check}"
    style = (
        "figure{display:inline-block;vertical-align:top;margin:8px;max-width:720px}figcaption{font-size:14px}"
    )
    text = page(f"{assignment}: what grading says about each check", summary, body, style=style)
    paths["html"] = out / f"stats-{assignment}.html"
    paths["html"].write_text(text, encoding="utf-8")
    return paths
