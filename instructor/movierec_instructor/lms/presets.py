"""One registry of LMS presets: how each LMS names the files of its download, and the gradebook file it
imports.

``movierec collect --from NAME`` and ``movierec export --format NAME`` both read
:data:`PRESETS`; a new LMS is one :func:`register` call with a name parser and a grades
writer (as nbgrader's ``ZipCollectPlugin`` and ``ExportPlugin`` are one class each).

Built in:

* ``plain`` (export alias ``csv``): files ``<student>_<notebook>.ipynb``, split at the
  notebook's name; grades as nbgrader's own export (one row per student and assignment).
* ``canvas``: ``<name>[_LATE]_<userid>_<submissionid>_<file>`` (Canvas appends ``-1``, ``-2``...
  to a file handed in again); grades as Canvas's gradebook CSV (``Student, ID, SIS User ID,
  SIS Login ID, Section``, one column per assignment, a ``Points Possible`` row).
* ``moodle``: ``<Full Name>_<id>_assignsubmission_file_<file>``, flat or in a folder of that
  name; grades as Moodle's grade import CSV (``ID number``, ``<assignment> (Real)`` columns).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from movierec_instructor.integrity.untrusted import write_csv

# The LMS's own part of a name, read from the right: a student's name and the file they
# uploaded are theirs to choose, so neither may decide whose submission it is.
CANVAS_TAIL = re.compile(r"_(?P<lms_id>\d+)_(?P<order>\d+)_$")
CANVAS_PART = re.compile(r"_(?P<lms_id>\d+)_(?P<order>\d+)_")
MOODLE_TAIL = re.compile(r"_(?P<lms_id>\d+)_assignsubmission_(?:file|onlinetext)_$")
MOODLE_PART = re.compile(r"_(?P<lms_id>\d+)_assignsubmission_(?:file|onlinetext)_")
RESUBMITTED = re.compile(r"-\d+(?=\.ipynb$)")
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@dataclass(frozen=True)
class GradeTable:
    """The gradebook as an LMS import needs it: scores after late penalties, per student and assignment."""

    assignments: list[str]
    maxima: dict[str, float]
    scores: dict[str, dict[str, float]]
    names: dict[str, str]
    db: str  # the gradebook it was read from, for a writer that needs more than the scores


@dataclass(frozen=True)
class LmsPreset:
    """How one LMS names its download's files and what gradebook file it imports.

    Attributes:
        name: the name given to ``--from`` and ``--format``.
        parse: ``(zip member name, the assignment's notebooks) -> (id, notebook, order)`` or
            None when the name is not in this LMS's form; ``order``: larger is later.
        write_grades: ``(table, out, lms ids by student) -> out``; None for an LMS without an import file.
        uses_lms_ids: whether the ids in names are the LMS's own (a mapping file turns them into ours).
        late_marker: a pattern in a file name by which the LMS marks a late submission.
    """

    name: str
    parse: Callable[[str, list[str]], tuple[str, str, int] | None]
    write_grades: Callable[[GradeTable, Path, dict[str, str]], Path] | None = None
    uses_lms_ids: bool = True
    late_marker: re.Pattern | None = None


class UnknownPreset(ValueError):
    """No LMS preset of that name (the message lists the known ones)."""


PRESETS: dict[str, LmsPreset] = {}
ALIASES = {"csv": "plain"}


def register(preset: LmsPreset) -> LmsPreset:
    """Adds (or replaces) a preset; every command that reads :data:`PRESETS` then knows it."""
    PRESETS[preset.name] = preset
    return preset


def preset(name: str, *, exporting: bool = False) -> LmsPreset:
    """The preset called ``name`` (or its alias).

    Raises:
        UnknownPreset: no such preset, or (``exporting``) one without a grades file; the message
            lists the choices.
    """
    found = PRESETS.get(ALIASES.get(name, name))
    if found is None or (exporting and found.write_grades is None):
        choices = names(exporting=exporting)
        raise UnknownPreset(
            f"Unknown {'export' if exporting else 'download'} format {name!r}; "
            f"choose one of {', '.join(choices)}."
        )
    return found


def names(*, exporting: bool = False) -> list[str]:
    """The preset names (with ``csv`` among the export names)."""
    found = [n for n, p in PRESETS.items() if not exporting or p.write_grades is not None]
    return found + [a for a, n in ALIASES.items() if exporting and n in found]


def split_known_file(name: str, notebooks: list[str]) -> tuple[str, str] | None:
    """``(prefix, notebook)`` when ``name`` ends with ``_<notebook>`` (Canvas may add ``-N``)."""
    for notebook in sorted(notebooks, key=len, reverse=True):
        stem = re.escape(notebook.removesuffix(".ipynb"))
        match = re.match(rf"^(?P<prefix>.+)_{stem}(?:-\d+)?\.ipynb$", name)
        if match:
            return match["prefix"], notebook
    return None


def _lms_part(
    name: str, notebooks: list[str], tail: re.Pattern, part: re.Pattern
) -> tuple[re.Match, str] | None:
    """The LMS's part of a flat file name and the file after it, or None if absent or ambiguous."""
    known = split_known_file(name, notebooks)
    if known:
        # The file is one of the assignment's notebooks: the LMS part ends right before it.
        match = tail.search(known[0] + "_")
        if match:
            return match, known[1]
    found = list(part.finditer(name))
    if len(found) != 1:
        return None  # absent, or a name or file that repeats the LMS pattern: nobody can tell whose
    return found[0], name[found[0].end() :]


def parse_plain(member: str, notebooks: list[str]) -> tuple[str, str, int] | None:
    name = PurePosixPath(member).name
    known = split_known_file(name, notebooks)
    return (known[0], known[1], 0) if known and not RESUBMITTED.search(name) else None


def parse_canvas(member: str, notebooks: list[str]) -> tuple[str, str, int] | None:
    found = _lms_part(PurePosixPath(member).name, notebooks, CANVAS_TAIL, CANVAS_PART)
    if not found:
        return None
    return found[0]["lms_id"], RESUBMITTED.sub("", found[1]), int(found[0]["order"])


def parse_moodle(member: str, notebooks: list[str]) -> tuple[str, str, int] | None:
    path = PurePosixPath(member)
    match = MOODLE_TAIL.search(path.parent.name) if path.parent.name else None
    if match:
        return match["lms_id"], path.name, 0
    found = _lms_part(path.name, notebooks, MOODLE_TAIL, MOODLE_PART)
    return (found[0]["lms_id"], found[1], 0) if found else None


def write_canvas(table: GradeTable, out: Path, lms_ids: dict[str, str]) -> Path:
    rows = [["Points Possible", "", "", "", ""] + [f"{table.maxima[a]:g}" for a in table.assignments]]
    rows += [
        [table.names[student], lms_ids.get(student, ""), student, "", ""]
        + [f"{table.scores[student][a]:g}" for a in table.assignments]
        for student in sorted(table.scores)
    ]
    return write_csv(out, CANVAS_FIXED + table.assignments, rows)


def write_moodle(table: GradeTable, out: Path, lms_ids: dict[str, str]) -> Path:
    return write_csv(
        out,
        ["ID number"] + [f"{a} (Real)" for a in table.assignments],
        (
            [student] + [f"{table.scores[student][a]:g}" for a in table.assignments]
            for student in sorted(table.scores)
        ),
    )


def write_nbgrader_csv(table: GradeTable, out: Path, lms_ids: dict[str, str]) -> Path:
    """nbgrader's own export: one row per student and assignment (:func:`results.export_grades`)."""
    from movierec_instructor.grading.results import export_grades

    return export_grades(out.parent, out, db=table.db)


register(LmsPreset("plain", parse_plain, write_nbgrader_csv, uses_lms_ids=False))
register(LmsPreset("canvas", parse_canvas, write_canvas, late_marker=re.compile(r"_LATE_\d+_\d+_")))
register(LmsPreset("moodle", parse_moodle, write_moodle))
