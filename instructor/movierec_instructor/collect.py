"""Collecting a class's notebooks from an LMS download (Canvas, Moodle, or plain names).

Each LMS names the files of its submission zip its own way; the student's id and the
notebook are read from the name by format, never by cutting at an underscore (every
notebook of this course has underscores, and so do many student ids):

* ``plain``: ``<student>_<notebook>.ipynb``, where ``<notebook>`` is one of the
  assignment's notebooks, so the split is at the notebook name;
* ``canvas``: ``<name>[_LATE]_<userid>_<submissionid>_<file>``; Canvas appends ``-1``,
  ``-2``... to a file handed in again, and the student is Canvas's numeric user id;
* ``moodle``: ``<Full Name>_<id>_assignsubmission_file_<file>``, as a flat file or as a
  folder ``<Full Name>_<id>_assignsubmission_file_/<file>``; the student is Moodle's id.

A mapping file (CSV with columns ``lms_id,student_id``) turns LMS ids into the course's
student ids. When a student appears more than once, the latest submission wins (Canvas:
the highest submission id; otherwise the newest file in the zip) and the report says so.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from movierec_instructor.submissions import Finding, expected_notebooks

FORMATS = ("plain", "canvas", "moodle")
CANVAS = re.compile(r"^(?P<name>.+?)(?:_late)?_(?P<lms_id>\d+)_(?P<order>\d+)_(?P<file>.+)$", re.IGNORECASE)
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<lms_id>\d+)_assignsubmission_(?:file|onlinetext)_/?(?P<file>.+)$")
RESUBMITTED = re.compile(r"-\d+(?=\.ipynb$)")


class CollectError(ValueError):
    """Raised when a download cannot be collected as asked (unknown format, bad mapping file)."""


@dataclass(frozen=True)
class Entry:
    """One notebook found in the download."""

    member: str  # the name inside the zip
    student: str
    notebook: str
    order: tuple  # larger is later


def read_mapping(path: Path | None) -> dict[str, str]:
    """Reads ``lms_id,student_id`` rows; an empty mapping when no file is given.

    Raises:
        CollectError: the file lacks one of the two columns.
    """
    if path is None:
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"lms_id", "student_id"} <= set(rows[0]):
        raise CollectError(f"{path} needs the columns lms_id,student_id; it has {sorted(rows[0])}.")
    return {row["lms_id"].strip(): row["student_id"].strip() for row in rows}


def parse_name(member: str, fmt: str, notebooks: list[str]) -> tuple[str, str, int] | None:
    """``(lms or student id, notebook file, submission order)`` from a zip member's name, or None."""
    path = PurePosixPath(member)
    if fmt == "moodle":
        match = MOODLE.match(member) or MOODLE.match(path.name)
        if not match:
            return None
        return match["lms_id"], PurePosixPath(match["file"]).name, 0
    name = path.name
    if fmt == "canvas":
        match = CANVAS.match(name)
        if not match:
            return None
        return match["lms_id"], RESUBMITTED.sub("", match["file"]), int(match["order"])
    for notebook in sorted(notebooks, key=len, reverse=True):
        suffix = f"_{notebook}"
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], notebook, 0
    return None


def collect(course: Path, assignment: str, archive: Path, *, fmt: str = "plain",
            mapping: Path | None = None) -> list[Finding]:
    """Files every notebook of an LMS download under ``submitted/<student>/<assignment>/``.

    Args:
        course: the course directory.
        assignment: the assignment id.
        archive: the zip the LMS produced.
        fmt: ``plain``, ``canvas`` or ``moodle``.
        mapping: optional CSV ``lms_id,student_id``.

    Returns:
        The report: one line per collected notebook, ignored resubmission or unreadable name.

    Raises:
        CollectError: unknown format or bad mapping file.
    """
    if fmt not in FORMATS:
        raise CollectError(f"Unknown download format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    notebooks = expected_notebooks(course, assignment)
    ids = read_mapping(mapping)
    findings: list[Finding] = []
    chosen: dict[tuple[str, str], Entry] = {}
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.endswith(".ipynb") or "__MACOSX" in info.filename:
                continue
            parsed = parse_name(info.filename, fmt, notebooks)
            if parsed is None:
                findings.append(Finding("?", assignment, f"{info.filename}: name not in {fmt} form",
                                        "not collected"))
                continue
            lms_id, notebook, order = parsed
            if fmt != "plain" and ids and lms_id not in ids:
                findings.append(Finding(lms_id, assignment, f"{info.filename}: LMS id {lms_id} is not in {mapping}",
                                        f"collected as student {lms_id!r}"))
            student = ids.get(lms_id, lms_id)
            entry = Entry(info.filename, student, notebook, (order, info.date_time, info.filename))
            key = (student, notebook)
            if key in chosen:
                older, newer = sorted((chosen[key], entry), key=lambda e: e.order)
                findings.append(Finding(student, assignment, f"handed in {notebook} more than once",
                                        f"kept the latest ({newer.member}), ignored {older.member}"))
                entry = newer
            chosen[key] = entry
        for (student, notebook), entry in sorted(chosen.items()):
            target = course / "submitted" / student / assignment / notebook
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(entry.member))
            findings.append(Finding(student, assignment, f"{entry.member}", f"collected as {target.relative_to(course)}"))
    return findings
