"""The test-strength report: a table per exercise and the surviving mutants' diffs (text, HTML, JSON)."""

from __future__ import annotations

import difflib
import html
import json
from datetime import date
from pathlib import Path

from movierec_instructor.integrity.report_page import page, table
from movierec_instructor.strength.runner import ExerciseStrength, MutantResult

COLUMNS = (
    "assignment",
    "exercise",
    "mutants",
    "killed",
    "visible",
    "hidden only",
    "survived",
    "equivalent",
    "named",
    "score",
)


def rows(strengths: list[ExerciseStrength]) -> list[dict]:
    """One row per exercise: the columns of :data:`COLUMNS`."""
    return [
        {
            "assignment": s.assignment,
            "exercise": s.exercise,
            "mutants": len(s.results),
            "killed": s.killed,
            "visible": s.killed_visibly,
            "hidden only": s.hidden_only,
            "survived": s.survived,
            "equivalent": s.equivalent,
            "named": round(s.named_share, 4),
            "score": round(s.score, 4),
        }
        for s in strengths
    ]


def diff(result: MutantResult) -> list[str]:
    """The mutant's change as unified-diff lines (one line of context)."""
    mutant = result.mutant
    return list(
        difflib.unified_diff(
            mutant.cell.split("\n"),
            mutant.source.split("\n"),
            f"{mutant.exercise} (solution)",
            f"{mutant.exercise} (mutant)",
            n=1,
            lineterm="",
        )
    )


def markdown_table(strengths: list[ExerciseStrength], *, when: date | None = None) -> str:
    """The README's table (GitHub markdown), with the date it was measured."""
    lines = [
        f"Measured {(when or date.today()).isoformat()} with `make test-strength`.",
        "",
        "| assignment | exercise | mutants | killed | killed by visible checks | killed only by hidden "
        "checks "
        "| survived | equivalent | feedback names it | score |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows(strengths):
        lines.append(
            f"| {row['assignment']} | `{row['exercise']}` | {row['mutants']} | {row['killed']} | "
            f"{row['visible']} | {row['hidden only']} | "
            f"{row['survived']} | {row['equivalent']} | {row['named']:.0%} | {row['score']:.0%} |"
        )
    return "\n".join(lines)


def text_report(strengths: list[ExerciseStrength]) -> str:
    """The table, then every surviving mutant with its diff, then the equivalent ones and why."""
    width = max([len(s.exercise) for s in strengths] + [8])
    out = [f"{'exercise':{width}}  mutants  killed  visible  hidden only  survived  equivalent  named  score"]
    for s in strengths:
        out.append(
            f"{s.exercise:{width}}  {len(s.results):7d}  {s.killed:6d}  {s.killed_visibly:7d}  "
            f"{s.hidden_only:11d}  {s.survived:8d}  {s.equivalent:10d}  {s.named_share:5.0%}  {s.score:5.0%}"
        )
    for s in strengths:
        hidden = [r for r in s.results if r.killed and not r.visible]
        if hidden:
            out += [
                "",
                f"== {s.assignment} / {s.exercise}: killed only by hidden checks "
                "(make check said ready; grading disagreed)",
            ]
            out += [
                f"-- {r.mutant.key}" + (f"\n   hard-coding: {r.hard_coding}" if r.hard_coding else "")
                for r in hidden
            ]
        survivors = [r for r in s.results if not r.killed and not r.equivalent]
        equivalents = [r for r in s.results if r.equivalent]
        if survivors:
            out += ["", f"== {s.assignment} / {s.exercise}: {len(survivors)} surviving mutant(s)"]
            for r in survivors:
                out += ["", f"-- {r.mutant.key}", *diff(r)]
        if equivalents:
            out += ["", f"== {s.assignment} / {s.exercise}: equivalent (reviewed, not counted)"]
            out += [f"-- {r.mutant.key}\n   why: {r.equivalent}" for r in equivalents]
        for key in s.stale_equivalents:
            out += [f"!! listed as equivalent but no longer generated: {key}"]
    return "\n".join(out) + "\n"


def _diff_html(result: MutantResult) -> str:
    """The mutant's diff as HTML: removed and added lines shaded, and marked ``-``/``+`` as in any diff."""
    lines = []
    for line in diff(result):
        kind = (
            "add"
            if line.startswith("+") and not line.startswith("+++")
            else "del"
            if line.startswith("-") and not line.startswith("---")
            else ""
        )
        lines.append(f"<span class='{kind}'>{html.escape(line)}</span>" if kind else html.escape(line))
    return "\n".join(lines)


def html_report(strengths: list[ExerciseStrength]) -> str:
    """The same as :func:`text_report`, as an accessible page with shaded diffs.

    The page (:mod:`~movierec_instructor.integrity.report_page`) has the table of exercises (a
    caption, column and row headers), then one section per surviving or equivalent mutant: its
    key, why it is equivalent, and its diff (lines marked ``-`` and ``+``, not by colour alone).
    """
    cells = [
        [row[c] if c not in ("score", "named") else f"{row[c]:.0%}" for c in COLUMNS]
        for row in rows(strengths)
    ]
    numeric = set(COLUMNS) - {"assignment", "exercise"}
    parts = [table("Mutants per exercise and what became of them", COLUMNS, cells, numeric=numeric)]
    for s in strengths:
        for r in s.results:
            if r.killed:
                continue
            title = "equivalent" if r.equivalent else "survived"
            why = f"<p>Why equivalent: {html.escape(r.equivalent)}</p>" if r.equivalent else ""
            parts.append(
                f"<section><h2>{html.escape(s.exercise)}: {title}</h2>"
                f"<p><code>{html.escape(r.mutant.key)}</code></p>{why}<pre>{_diff_html(r)}</pre></section>"
            )
    summary = (
        "<p>A mutant is a small change of the reference solution; the exercise's visible and hidden tests "
        "kill it when they give it less than full points. Below the table, every mutant that was not "
        "killed, with its diff: lines starting with - are the solution's, lines starting with + the "
        "mutant's.</p>"
    )
    style = "pre{background:#f6f8fa;padding:6px}.add{background:#dcffe4}.del{background:#ffe3e6}"
    return page("Test strength", summary, "\n".join(parts), style=style)


def write_reports(strengths: list[ExerciseStrength], out: Path, name: str) -> dict[str, Path]:
    """Writes ``<name>.txt``, ``<name>.html`` and ``<name>.json`` (the rows) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"text": out / f"{name}.txt", "html": out / f"{name}.html", "json": out / f"{name}.json"}
    paths["text"].write_text(text_report(strengths), encoding="utf-8")
    paths["html"].write_text(html_report(strengths), encoding="utf-8")
    paths["json"].write_text(json.dumps(rows(strengths), indent=1), encoding="utf-8")
    return paths
