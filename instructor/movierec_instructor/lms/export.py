"""Grades in the file an LMS gradebook imports as is (the presets of
:mod:`movierec_instructor.lms.presets`)."""

from __future__ import annotations

from pathlib import Path

from movierec_instructor.grading.nbgrader_runner import gradebook_url
from movierec_instructor.lms.collect import read_mapping
from movierec_instructor.lms.presets import GradeTable, preset


def gradebook_table(db: str) -> GradeTable:
    """Every student's score per assignment after late penalties (0 when not handed in)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db) as gb:
        assignments = [a.name for a in gb.assignments]
        maxima = {a.name: float(a.max_score) for a in gb.assignments}
        scores: dict[str, dict[str, float]] = {}
        names = {}
        for student in gb.students:
            names[student.id] = (
                " ".join(p for p in (student.first_name, student.last_name) if p) or student.id
            )
            scores[student.id] = {}
            for name in assignments:
                try:
                    sub = gb.find_submission(name, student.id)
                except MissingEntry:  # not handed in
                    scores[student.id][name] = 0.0
                    continue
                scores[student.id][name] = float(sub.score) - float(sub.late_submission_penalty or 0.0)
    return GradeTable(assignments, maxima, scores, names, db)


def export_lms(
    course: Path, out: Path, fmt: str, *, mapping: Path | None = None, db: str | None = None
) -> Path:
    """Writes the course's grades in the gradebook file of the LMS preset ``fmt``.

    Args:
        course: the course directory.
        out: the file to write.
        fmt: a preset name with a grades file (``csv``/``plain``, ``canvas``, ``moodle``, or a
            registered one).
        mapping: the ``lms_id,student_id`` file used with ``movierec collect`` (LMS ids in the file).
        db: the gradebook URL.

    Returns:
        ``out``.

    Raises:
        movierec_instructor.lms.presets.UnknownPreset: unknown format (the message lists the known ones).
    """
    chosen = preset(fmt, exporting=True)
    table = gradebook_table(db or gradebook_url(Path(course).resolve()))
    lms_ids = {student: lms for lms, student in read_mapping(mapping).items()}
    return chosen.write_grades(table, Path(out), lms_ids)
