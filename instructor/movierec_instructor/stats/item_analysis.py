"""What a class's grading says about each check: pass rates, discrimination, common failures.

Every graded check prints one line in its test cell's output when it runs,
``✓ <what> (1 of 1)`` or ``✗ <what> (0 of 1): <why>`` (hidden checks as
``a hidden check: <what>``), so the autograded notebooks already record each student's
result per check: reading them back costs grading nothing. Only labels written in the
assignment's source notebook are counted, each once per student (its last line: a student's
own code runs *before* a check prints, so anything it printed comes earlier). A submission
can still print misleading lines; that changes these statistics, never a grade.

Discrimination is the corrected point-biserial correlation: passing the check (0/1)
against the rest of the student's total (the total without this check's points), so a
check does not correlate with itself.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from movierec_instructor.grading.submissions import expected_notebooks
from movierec_instructor.integrity.untrusted import is_student_id

CHECK_LINE = re.compile(
    r"^(?P<mark>[✓✗]) (?P<label>.+?) \((?P<earned>\d+(?:\.\d+)?) of "
    r"(?P<points>\d+(?:\.\d+)?)\)(?:: (?P<detail>.*))?$"
)
CHECK_CALL = re.compile(
    r"checks\.check\(\s*(?P<points>\d+(?:\.\d+)?)\s*,\s*(?P<quote>[\"'])(?P<what>.+?)(?P=quote)"
    r"(?P<rest>[^)\n]*)\)"
)
HIDDEN_PREFIX = "a hidden check: "
NEGATIVE = -0.1  # below this a check is failed mostly by strong students: probably wrong


@dataclass(frozen=True)
class Check:
    """One check as the source notebook declares it."""

    exercise: str  # the test cell's grade_id
    label: str  # as printed in a graded notebook
    points: float
    hidden: bool


@dataclass
class CheckStats:
    """One check across a class."""

    check: Check
    students: int = 0
    passed: int = 0
    mean_points: float = 0.0
    discrimination: float | None = None
    failures: Counter = field(default_factory=Counter)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.students if self.students else 0.0

    @property
    def flag(self) -> str:
        """Why an instructor should look at this check ('' when nothing stands out)."""
        if self.students and self.passed == self.students:
            return "nobody fails it: does it test anything?"
        if self.students and self.passed == 0:
            return "everybody fails it: is the check or the text wrong?"
        if self.discrimination is not None and self.discrimination < NEGATIVE:
            return "failed mostly by strong students: is the check wrong?"
        return ""


def declared_checks(source: Path) -> list[Check]:
    """The checks of a source notebook's test cells, in order."""
    nb = nbformat.read(source, as_version=4)
    checks = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        for call in CHECK_CALL.finditer(cell.source):
            hidden = "hidden=True" in call["rest"]
            label = HIDDEN_PREFIX + call["what"] if hidden else call["what"]
            checks.append(Check(meta["grade_id"], label, float(call["points"]), hidden))
    return checks


def graded_lines(notebook: Path, checks: list[Check]) -> dict[tuple[str, str], tuple[float, str]]:
    """``(exercise, label) -> (earned, failure detail)`` read from one autograded notebook."""
    wanted = {(c.exercise, c.label) for c in checks}
    found: dict[tuple[str, str], tuple[float, str]] = {}
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # noqa: BLE001 - an unreadable notebook has no results; its grade says the rest
        return found
    for cell in nb.cells:
        exercise = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") != "code" or not exercise:
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            for line in str(text).splitlines():
                match = CHECK_LINE.match(line)
                if match and (exercise, match["label"]) in wanted:
                    found[(exercise, match["label"])] = (
                        float(match["earned"]),
                        (match["detail"] or "").strip(),
                    )
    return found


def class_results(
    course: Path, assignment: str
) -> tuple[list[Check], dict[str, dict[tuple[str, str], tuple[float, str]]]]:
    """The declared checks, and per graded student their results (missing = did not run)."""
    course = Path(course)
    checks: list[Check] = []
    for name in expected_notebooks(course, assignment):
        checks += declared_checks(course / "solutions" / assignment / name)
    results: dict[str, dict[tuple[str, str], tuple[float, str]]] = {}
    graded = course / "autograded"
    for student_dir in sorted(graded.iterdir()) if graded.is_dir() else []:
        if not is_student_id(student_dir.name) or not (student_dir / assignment).is_dir():
            continue
        lines: dict[tuple[str, str], tuple[float, str]] = {}
        for name in expected_notebooks(course, assignment):
            lines.update(graded_lines(student_dir / assignment / name, checks))
        results[student_dir.name] = lines
    return checks, results


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def analyse(
    checks: list[Check], results: dict[str, dict[tuple[str, str], tuple[float, str]]]
) -> list[CheckStats]:
    """Per check: how many passed, mean points, discrimination, the commonest failure details.

    Args:
        checks: the declared checks.
        results: student -> ``(exercise, label) -> (earned, detail)``; a check missing for a
            student counts as failed ("did not run").

    Returns:
        One :class:`CheckStats` per check, in the notebook's order.
    """
    students = sorted(results)
    earned = {
        s: {
            (c.exercise, c.label): results[s].get((c.exercise, c.label), (0.0, "did not run"))[0]
            for c in checks
        }
        for s in students
    }
    totals = {s: sum(earned[s].values()) for s in students}
    out = []
    for check in checks:
        key = (check.exercise, check.label)
        stats = CheckStats(check, students=len(students))
        passed = []
        for s in students:
            points, detail = results[s].get(key, (0.0, "did not run (the cell stopped before this check)"))
            ok = points >= check.points
            passed.append(1.0 if ok else 0.0)
            stats.passed += ok
            stats.mean_points += points / max(1, len(students))
            if not ok:
                stats.failures[detail or "(no detail: a hidden check)"] += 1
        stats.discrimination = _correlation(passed, [totals[s] - earned[s][key] for s in students])
        out.append(stats)
    return out


def exercise_scores(
    checks: list[Check], results: dict[str, dict[tuple[str, str], tuple[float, str]]]
) -> dict[str, list[float]]:
    """exercise -> every student's points in it (from the check lines)."""
    scores: dict[str, list[float]] = {}
    for exercise in dict.fromkeys(c.exercise for c in checks):
        mine = [c for c in checks if c.exercise == exercise]
        scores[exercise] = [
            sum(results[s].get((c.exercise, c.label), (0.0, ""))[0] for c in mine) for s in sorted(results)
        ]
    return scores


def summary_lines(stats: list[CheckStats], limit: int = 3) -> list[str]:
    """A few lines for the end of ``movierec autograde``: hardest checks and flagged ones."""
    if not stats or not stats[0].students:
        return []
    lines = [f"checks: {len(stats)}, students: {stats[0].students}"]
    for s in sorted(stats, key=lambda s: s.pass_rate)[:limit]:
        lines.append(f"  hardest: {s.check.exercise} / {s.check.label}: {s.passed} of {s.students} passed")
    for s in stats:
        if s.flag:
            lines.append(f"  look at: {s.check.exercise} / {s.check.label}: {s.flag}")
    return lines


def as_json(stats: list[CheckStats]) -> str:
    """The statistics as JSON (what the CSV holds, with the failure counts)."""
    return json.dumps(
        [
            {
                "exercise": s.check.exercise,
                "check": s.check.label,
                "hidden": s.check.hidden,
                "points": s.check.points,
                "students": s.students,
                "passed": s.passed,
                "mean_points": round(s.mean_points, 4),
                "discrimination": None if s.discrimination is None else round(s.discrimination, 4),
                "flag": s.flag,
                "failures": s.failures.most_common(5),
            }
            for s in stats
        ],
        indent=1,
    )
