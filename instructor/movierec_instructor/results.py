"""What grading produces for people: the report, the grades export, the students' feedback."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from movierec_instructor.nbgrader_runner import gradebook_url, run_nbgrader
from movierec_instructor.submissions import Finding


def export_grades(course: Path, out: Path, db: str | None = None) -> Path:
    """Writes nbgrader's grades table (one row per student and assignment) to ``out``."""
    course = Path(course).resolve()
    run_nbgrader(course, "export", f"--CsvExportPlugin.to={Path(out).resolve()}",
                 db=db or gradebook_url(course), check=True)
    return Path(out)


def write_report(findings: list[Finding], out: Path) -> Path:
    """Writes the grading report as CSV (student, assignment, problem, action)."""
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "assignment", "problem", "action"])
        writer.writerows((f.student, f.assignment, f.problem, f.action) for f in findings)
    return Path(out)


def feedback(course: Path, assignment: str, *, hide_hidden_tests: bool = True, db: str | None = None) -> None:
    """Generates HTML feedback; by default with the hidden tests removed, tracebacks included.

    nbgrader's feedback shows every test cell's source, hidden tests included. Here
    :class:`~movierec_instructor.feedback_filters.ExplainErrors` first replaces traceback
    lines that quote a hidden test and explains cells stopped by a time or memory limit,
    then nbgrader's ``ClearHiddenTests`` removes the hidden parts of the sources
    (``hide_hidden_tests=False`` keeps both).
    """
    course = Path(course).resolve()
    steps = ["nbgrader.preprocessors.GetGrades", "movierec_instructor.feedback_filters.ExplainErrors"]
    if hide_hidden_tests:
        steps.append("nbgrader.preprocessors.ClearHiddenTests")
    steps.append("nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")
    args = ["generate_feedback", assignment, "--force",
            f"--GenerateFeedback.preprocessors={steps!r}",
            f"--ExplainErrors.scrub_hidden={hide_hidden_tests}",
            f"--ExplainErrors.timeout={execution_timeout(course)}"]
    run_nbgrader(course, *args, db=db or gradebook_url(course), check=True)


def execution_timeout(course: Path) -> int:
    """The per-cell timeout of the course's nbgrader_config.py (nbgrader's default 30 s otherwise)."""
    match = re.findall(r"^c\.ExecutePreprocessor\.timeout\s*=\s*(\d+)", (course / "nbgrader_config.py").read_text(),
                       flags=re.MULTILINE)
    return int(match[-1]) if match else 30
