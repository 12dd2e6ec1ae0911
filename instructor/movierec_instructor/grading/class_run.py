"""One class run, whatever grades it: who is graded, what is prepared first, what the report adds last.

Both backends, the local worker pool (:func:`movierec_instructor.grading.autograde.autograde`) and a
Dask cluster (:func:`movierec_instructor.grading.cluster.autograde_on_cluster`), plan the run with
:meth:`ClassRun.plan`, prepare it with :meth:`ClassRun.prepare` and end the report with
:meth:`ClassRun.finish`, so the same class with the same flags gives the same report lines on
both. :class:`MergeOnce` merges each student's result into the gradebook at most once a run.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from movierec_instructor.grading.late_policy import Deadlines, describe, load
from movierec_instructor.grading.nbgrader_runner import gradebook_url, run_nbgrader
from movierec_instructor.grading.submissions import (
    NOT_GRADED,
    Finding,
    expected_notebooks,
    prepare_submissions,
)
from movierec_instructor.integrity.untrusted import is_student_id, terminal_safe


@dataclass
class ClassRun:
    """Who one ``movierec autograde`` run grades, and the course it grades them in."""

    course: Path
    assignment: str
    release: Path
    db: str
    deadlines: Deadlines
    sandbox: bool
    students: list[str]
    missing: list[str]
    only: list[str] | None
    expected: list[str]
    due: dt.datetime | None = field(default=None)

    @classmethod
    def plan(
        cls,
        course: Path,
        assignment: str,
        *,
        release: Path | None = None,
        db: str | None = None,
        sandbox: bool = True,
        only: list[str] | None = None,
    ) -> ClassRun:
        """Reads the class: students with a submission (``only`` keeps those named), the deadlines.

        Raises:
            movierec_instructor.grading.late_policy.DeadlineError: a bad ``deadlines.toml`` or
                ``extensions.csv``; nothing has been touched yet.
        """
        course = Path(course).resolve()
        deadlines = load(course)
        submitted = course / "submitted"
        students = (
            sorted(p.name for p in submitted.iterdir() if is_student_id(p.name) and (p / assignment).is_dir())
            if submitted.is_dir()
            else []
        )
        missing: list[str] = []
        if only is not None:
            missing = sorted(set(only) - set(students))
            students = [s for s in students if s in set(only)]
        return cls(
            course=course,
            assignment=assignment,
            release=Path(release or course / "notebooks").resolve(),
            db=db or gradebook_url(course),
            deadlines=deadlines,
            sandbox=sandbox,
            students=students,
            missing=missing,
            only=only,
            expected=expected_notebooks(course, assignment),
        )

    def prepare(self, generate: bool = True) -> list[Finding]:
        """Checks the submissions, registers the assignment and its due date; the report's first lines.

        ``generate``: False when the gradebook already holds the assignment (cells and notebooks).
        """
        findings = prepare_submissions(
            self.course, self.assignment, self.release, only=self.students if self.only is not None else None
        )
        findings += [
            Finding(
                terminal_safe(s),
                self.assignment,
                "--student names no submission of this assignment",
                f"{NOT_GRADED}: nothing to grade",
            )
            for s in self.missing
        ]
        if not self.sandbox:
            findings.append(
                Finding(
                    "*",
                    self.assignment,
                    "graded with --no-sandbox",
                    "submissions could read hidden tests and other files; review the grades",
                )
            )
        if generate:
            register(self.course, self.assignment, self.db)
        self.due = set_due_date(self.db, self.assignment, self.deadlines)
        return findings

    def not_graded(self, students: list[str], problem: str, action: str) -> list[Finding]:
        """A report line for each of ``students`` whom nobody graded (a machine fault)."""
        return [Finding(s, self.assignment, problem, f"{NOT_GRADED}: {action}") for s in students]

    def finish(self) -> list[Finding]:
        """The report's last lines: outputs cut to the byte limits, late submissions."""
        return cut_outputs_report(self.course, self.assignment, self.students, self.expected) + late_findings(
            self.db, self.assignment, self.students, self.deadlines
        )


class DoubleGrade(RuntimeError):
    """A second result for a student already merged in this run: exactly-once is broken."""


class MergeOnce:
    """Merges each student's one-student gradebook into the class gradebook, at most once a run."""

    def __init__(self, db: str, assignment: str) -> None:
        self.db, self.assignment, self.merged = db, assignment, set()

    def merge(self, student: str, worker_db: str) -> None:
        """Merges ``student`` from ``worker_db``.

        Raises:
            DoubleGrade: ``student`` was merged before in this run (nothing is written).
        """
        if student in self.merged:
            raise DoubleGrade(f"{student} was already graded in this run; a second result is refused")
        merge_gradebook(worker_db, self.db, self.assignment, students={student})
        self.merged.add(student)


def register(course: Path, assignment: str, db: str) -> None:
    """Registers the assignment's notebooks and cells in the gradebook ``db`` (generate_assignment)."""
    with tempfile.TemporaryDirectory() as scratch:  # nbgrader writes a release copy we do not need
        run_nbgrader(
            course,
            "generate_assignment",
            assignment,
            "--force",
            f"--CourseDirectory.release_directory={scratch}",
            db=db,
            check=True,
        )


def merge_gradebook(worker_db: str, main_db: str, assignment: str, students: set[str] | None = None) -> None:
    """Copies submissions of ``assignment`` (all, or just ``students``) from a worker's gradebook into the
    main one."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader's API triggers SQLAlchemy "not in session" warnings on add_submission; harmless.
    with warnings.catch_warnings(), Gradebook(worker_db) as worker, Gradebook(main_db) as main:
        warnings.simplefilter("ignore")
        for sub in worker.assignment_submissions(assignment):
            if students is not None and sub.student_id not in students:
                continue
            main.update_or_create_student(sub.student_id)
            try:
                main.remove_submission(assignment, sub.student_id)
            except MissingEntry:
                pass
            main.add_submission(assignment, sub.student_id, timestamp=sub.timestamp)
            for nb in sub.notebooks:
                target = main.find_submission_notebook(nb.name, assignment, sub.student_id)
                target.flagged = nb.flagged
                target.late_submission_penalty = nb.late_submission_penalty
                for grade in nb.grades:
                    mine = main.find_grade(grade.name, nb.name, assignment, sub.student_id)
                    mine.auto_score, mine.manual_score = grade.auto_score, grade.manual_score
                    mine.extra_credit, mine.needs_manual_grade = grade.extra_credit, grade.needs_manual_grade
                for comment in nb.comments:
                    mine = main.find_comment(comment.name, nb.name, assignment, sub.student_id)
                    mine.auto_comment, mine.manual_comment = comment.auto_comment, comment.manual_comment
            main.db.commit()


def set_due_date(db: str, assignment: str, deadlines: Deadlines) -> dt.datetime | None:
    """Puts the assignment's due date from ``deadlines.toml`` into the gradebook (naive UTC, as nbgrader
    keeps it)."""
    due = deadlines.due.get(assignment)
    if due is None:
        return None
    from nbgrader.api import Gradebook

    naive = due.astimezone(dt.UTC).replace(tzinfo=None)
    with Gradebook(db) as gb:
        gb.update_or_create_assignment(assignment, duedate=naive)
    return naive


def late_findings(db: str, assignment: str, students: list[str], deadlines: Deadlines) -> list[Finding]:
    """One report line per late student: how late, the extension, the penalty nbgrader recorded."""
    if assignment not in deadlines.due:
        return []
    from nbgrader.api import Gradebook, MissingEntry

    found = []
    with Gradebook(db) as gb:
        for student in students:
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            if not sub.timestamp:
                continue
            late = deadlines.seconds_late(student, assignment, sub.timestamp)
            extra, note = deadlines.extensions.get((student, assignment), (0.0, ""))
            if late <= 0 and not extra:
                continue
            percent = deadlines.policy.percent(late)
            ext = f" (extension {extra / 3600:g} h{': ' + note if note else ''})" if extra else ""
            what = describe(late, percent) if late > 0 else "on time"
            found.append(
                Finding(
                    student,
                    assignment,
                    f"{what}{ext}",
                    f"late penalty {sub.late_submission_penalty or 0:g} point(s) of {sub.score:g}",
                )
            )
    return found


def cut_outputs_report(
    course: Path, assignment: str, students: list[str], expected: list[str]
) -> list[Finding]:
    """Report lines for notebooks whose outputs the grader cut to the byte limits."""
    found = []
    for student in students:
        for name in expected:
            path = course / "autograded" / student / assignment / name
            try:
                cut = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("movierec", {})
            except (OSError, ValueError):
                continue
            if cut.get("truncated_outputs"):
                found.append(
                    Finding(
                        student,
                        assignment,
                        f"{name}: {cut['truncated_outputs']} output(s) over the size limit",
                        "cut in the graded notebook and the feedback (scores unchanged)",
                    )
                )
    return found
