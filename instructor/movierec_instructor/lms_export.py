"""Grades in the file an LMS gradebook imports as is: one row per student, one column per assignment.

* ``canvas``: Canvas's gradebook CSV: the columns ``Student, ID, SIS User ID, SIS Login ID,
  Section`` then one column per assignment, and a second row ``Points Possible`` with each
  assignment's maximum. ``ID`` is the Canvas user id (from the mapping file used to collect),
  ``SIS User ID`` the course's student id.
* ``moodle``: Moodle's grade import CSV: an identifier column ``ID number`` (the course's
  student id, to be matched to "ID number" in the import form) and one column per
  assignment named ``<assignment> (Real)``, as Moodle's own export names grade items.
* ``csv``: nbgrader's own export (one row per student and assignment).
"""

from __future__ import annotations

from pathlib import Path

from movierec_instructor.collect import read_mapping
from movierec_instructor.nbgrader_runner import gradebook_url
from movierec_instructor.untrusted import write_csv

FORMATS = ("csv", "canvas", "moodle")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def gradebook_table(db: str) -> tuple[list[str], dict[str, float], dict[str, dict[str, float]], dict[str, str]]:
    """(assignments in order, max score per assignment, scores per student, display names)."""
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        assignments = [a.name for a in gb.assignments]
        maxima = {a.name: float(a.max_score) for a in gb.assignments}
        scores: dict[str, dict[str, float]] = {}
        names = {}
        for student in gb.students:
            names[student.id] = " ".join(p for p in (student.first_name, student.last_name) if p) or student.id
            scores[student.id] = {}
            for name in assignments:
                try:
                    sub = gb.find_submission(name, student.id)
                    scores[student.id][name] = float(sub.score) - float(sub.late_submission_penalty or 0.0)
                except Exception:  # noqa: BLE001 - nbgrader raises MissingEntry: not handed in
                    scores[student.id][name] = 0.0
    return assignments, maxima, scores, names


def export_lms(course: Path, out: Path, fmt: str, *, mapping: Path | None = None, db: str | None = None) -> Path:
    """Writes the course's grades for an LMS gradebook import.

    Args:
        course: the course directory.
        out: the file to write.
        fmt: ``canvas`` or ``moodle`` (``csv`` is nbgrader's export, :func:`results.export_grades`).
        mapping: the ``lms_id,student_id`` file used with ``movierec collect`` (Canvas ids).
        db: the gradebook URL.

    Returns:
        ``out``.

    Raises:
        ValueError: unknown format.
    """
    if fmt not in ("canvas", "moodle"):
        raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    assignments, maxima, scores, names = gradebook_table(db or gradebook_url(Path(course).resolve()))
    lms_ids = {student: lms for lms, student in read_mapping(mapping).items()}
    if fmt == "canvas":
        rows = [["Points Possible", "", "", "", ""] + [f"{maxima[a]:g}" for a in assignments]]
        rows += [[names[student], lms_ids.get(student, ""), student, "", ""]
                 + [f"{scores[student][a]:g}" for a in assignments] for student in sorted(scores)]
        return write_csv(out, CANVAS_FIXED + assignments, rows)
    return write_csv(out, ["ID number"] + [f"{a} (Real)" for a in assignments],
                     ([student] + [f"{scores[student][a]:g}" for a in assignments] for student in sorted(scores)))
