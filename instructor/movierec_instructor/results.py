"""What grading produces for people: the report, the grades export, the students' feedback."""

from __future__ import annotations

import csv
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
    """Generates HTML feedback; by default with the hidden tests' source removed.

    nbgrader's feedback shows every test cell's source, hidden tests included. With
    ``hide_hidden_tests`` the hidden parts are cleared first (tracebacks of failed hidden
    tests can still quote a line).
    """
    course = Path(course).resolve()
    args = ["generate_feedback", assignment, "--force"]
    if hide_hidden_tests:
        args.append("--GenerateFeedback.preprocessors=['nbgrader.preprocessors.GetGrades',"
                    "'nbgrader.preprocessors.ClearHiddenTests','nbconvert.preprocessors.CSSHTMLHeaderPreprocessor']")
    run_nbgrader(course, *args, db=db or gradebook_url(course), check=True)
