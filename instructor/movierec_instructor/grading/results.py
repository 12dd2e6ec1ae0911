"""What grading produces for people: the report, the grades export, the students' feedback."""

from __future__ import annotations

import html
import re
from pathlib import Path

from movierec_instructor.grading.feedback_page import add_late_line, exporter_options
from movierec_instructor.grading.late_policy import describe, load
from movierec_instructor.grading.nbgrader_runner import gradebook_url, run_nbgrader
from movierec_instructor.grading.submissions import Finding
from movierec_instructor.integrity.untrusted import add_csp, without_scripts, write_csv

GRADE_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
]


def export_grades(course: Path, out: Path, db: str | None = None) -> Path:
    """Writes the grades table (one row per student and assignment) to ``out``.

    The columns are those of nbgrader's own CSV export, but the file is written here:
    nbgrader's writer does not quote fields, so a student id with a comma could forge a
    row, and an id starting with ``=`` would reach a spreadsheet as a formula.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course).resolve()
    rows = []
    with Gradebook(db or gradebook_url(course)) as gb:
        for assignment in gb.assignments:
            for student in gb.students:
                person = [student.id, student.last_name or "", student.first_name or "", student.email or ""]
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    rows.append(
                        [
                            assignment.name,
                            assignment.duedate or "",
                            "",
                            *person,
                            0.0,
                            0.0,
                            0.0,
                            assignment.max_score,
                        ]
                    )
                    continue
                penalty = sub.late_submission_penalty or 0.0
                rows.append(
                    [
                        assignment.name,
                        assignment.duedate or "",
                        sub.timestamp or "",
                        *person,
                        sub.score,
                        penalty,
                        sub.score - penalty,
                        assignment.max_score,
                    ]
                )
    return write_csv(out, GRADE_COLUMNS, rows)


def write_report(findings: list[Finding], out: Path) -> Path:
    """Writes the grading report as CSV (student, assignment, problem, action)."""
    return write_csv(
        out,
        ["student", "assignment", "problem", "action"],
        ((f.student, f.assignment, f.problem, f.action) for f in findings),
    )


def feedback(
    course: Path,
    assignment: str,
    *,
    hide_hidden_tests: bool = True,
    db: str | None = None,
    student: str | None = None,
) -> None:
    """Generates HTML feedback; by default with the hidden tests removed, tracebacks included.

    Every page carries a Content Security Policy without scripts, and the student's markdown
    and HTML outputs are sanitised (nbconvert's ``SanitizeHTML``): nothing a student wrote
    runs in the page. nbgrader's feedback shows every test cell's source, hidden tests included. Here
    :class:`~movierec_instructor.grading.feedback_filters.ExplainErrors` first replaces traceback
    lines that quote a hidden test and explains cells stopped by a time or memory limit,
    then nbgrader's ``ClearHiddenTests`` removes the hidden parts of the sources
    (``hide_hidden_tests=False`` keeps both). The page is nbgrader's content in this package's
    accessible template (:mod:`~movierec_instructor.grading.feedback_page`); a late
    submission's line goes into its header.
    """
    course = Path(course).resolve()
    steps = ["nbgrader.preprocessors.GetGrades", "movierec_instructor.grading.feedback_filters.ExplainErrors"]
    if hide_hidden_tests:
        steps.append("nbgrader.preprocessors.ClearHiddenTests")
    # A student's markdown and HTML/JavaScript outputs are theirs: sanitised, scripts removed.
    steps += [
        "nbconvert.preprocessors.sanitize.SanitizeHTML",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    args = [
        "generate_feedback",
        assignment,
        "--force",
        f"--GenerateFeedback.preprocessors={steps!r}",
        f"--ExplainErrors.scrub_hidden={hide_hidden_tests}",
        "--SanitizeHTML.enabled=True",
        f"--ExplainErrors.timeout={execution_timeout(course)}",
        *([f"--student={student}"] if student else []),
    ]
    run_nbgrader(course, *args, *exporter_options(), db=db or gradebook_url(course), check=True)
    lines = late_lines(course, assignment, db or gradebook_url(course))
    for page in (course / "feedback").glob(f"{student or '*'}/{assignment}/*.html"):
        text = add_csp(without_scripts(page.read_text(encoding="utf-8")))
        text = add_late_line(text, lines.get(page.parent.parent.name, ""))
        page.write_text(text, encoding="utf-8")


def late_lines(course: Path, assignment: str, db: str) -> dict[str, str]:
    """student -> the feedback's late line, e.g. ``submitted 26 h late: -10% (-0.3 points)``."""
    from nbgrader.api import Gradebook

    deadlines = load(course)
    if assignment not in deadlines.due:
        return {}
    lines = {}
    with Gradebook(db) as gb:
        for sub in gb.assignment_submissions(assignment):
            if not sub.timestamp:
                continue
            late = deadlines.seconds_late(sub.student_id, assignment, sub.timestamp)
            if late <= 0:
                continue
            text = (
                f"{describe(late, deadlines.policy.percent(late))} "
                f"(-{sub.late_submission_penalty or 0:g} point(s); "
                f"due {deadlines.due[assignment]:%Y-%m-%d %H:%M} UTC)"
            )
            lines[sub.student_id] = f'<p class="movierec-late"><strong>{html.escape(text)}</strong></p>'
    return lines


def execution_timeout(course: Path) -> int:
    """The per-cell timeout of the course's nbgrader_config.py (nbgrader's default 30 s otherwise)."""
    match = re.findall(
        r"^c\.ExecutePreprocessor\.timeout\s*=\s*(\d+)",
        (course / "nbgrader_config.py").read_text(),
        flags=re.MULTILINE,
    )
    return int(match[-1]) if match else 30
