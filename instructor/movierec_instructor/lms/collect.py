"""Collecting a class's notebooks from an LMS download (the presets of
:mod:`movierec_instructor.lms.presets`).

Each LMS names the files of its submission zip its own way; the student's id and the
notebook are read from the name by the preset (``plain``, ``canvas``, ``moodle`` or a
registered one), never by cutting at an underscore (every notebook of this course has
underscores, and so do many student ids).

A mapping file (CSV with columns ``lms_id,student_id``) turns LMS ids into the course's
student ids. When a student appears more than once, the latest submission wins (Canvas:
the highest submission id; otherwise the newest file in the zip) and the report says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from movierec_instructor.grading.late_policy import load
from movierec_instructor.grading.submissions import Finding, expected_notebooks
from movierec_instructor.integrity.untrusted import (
    ArchiveLimits,
    ArchiveTooLarge,
    UnsafeId,
    check_student_id,
    extract_member,
    path_inside,
    terminal_safe,
)
from movierec_instructor.lms.presets import LmsPreset, UnknownPreset, preset


class CollectError(ValueError):
    """Raised when a download cannot be collected as asked (unknown format, bad mapping file, too many
    entries)."""


@dataclass(frozen=True)
class Entry:
    """One notebook found in the download."""

    member: zipfile.ZipInfo
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
    # The ids are checked where they are used (collect), so one bad row refuses only its student.
    return {(row["lms_id"] or "").strip(): (row["student_id"] or "").strip() for row in rows}


def parse_name(member: str, fmt: str, notebooks: list[str]) -> tuple[str, str, int] | None:
    """``(lms or student id, notebook file, submission order)`` from a zip member's name, or None."""
    return preset(fmt).parse(member, notebooks)


def _latest_entries(
    infos: list[zipfile.ZipInfo],
    lms: LmsPreset,
    notebooks: list[str],
    ids: dict[str, str],
    mapping: Path | None,
    assignment: str,
    findings: list[Finding],
) -> dict[tuple[str, str], Entry]:
    """Each (student, notebook)'s latest entry of the download; report lines for the rest."""
    chosen: dict[tuple[str, str], Entry] = {}
    for info in infos:
        shown = terminal_safe(info.filename)
        if info.is_dir() or not info.filename.endswith(".ipynb") or "__MACOSX" in info.filename:
            continue
        parsed = lms.parse(info.filename, notebooks)
        if parsed is None:
            findings.append(
                Finding(
                    "?",
                    assignment,
                    f"{shown}: name not in {lms.name} form (or it names more than one student)",
                    "not collected",
                )
            )
            continue
        lms_id, notebook, order = parsed
        if lms.uses_lms_ids and ids and lms_id not in ids:
            findings.append(
                Finding(
                    lms_id,
                    assignment,
                    f"{shown}: LMS id {lms_id} is not in {mapping}",
                    f"collected as student {lms_id!r}",
                )
            )
        try:
            student = check_student_id(ids.get(lms_id, lms_id), f"{shown}: student id")
        except UnsafeId as exc:
            findings.append(Finding("?", assignment, str(exc), "not collected"))
            continue
        entry = Entry(info, student, notebook, (order, info.date_time, info.filename))
        key = (student, notebook)
        if key in chosen:
            older, newer = sorted((chosen[key], entry), key=lambda e: e.order)
            findings.append(
                Finding(
                    student,
                    assignment,
                    f"handed in {notebook} more than once",
                    f"kept the latest ({terminal_safe(newer.member.filename)}), "
                    f"ignored {terminal_safe(older.member.filename)}",
                )
            )
            entry = newer
        chosen[key] = entry
    return chosen


def collect(
    course: Path,
    assignment: str,
    archive: Path,
    *,
    fmt: str = "plain",
    mapping: Path | None = None,
    limits: ArchiveLimits | None = None,
) -> list[Finding]:
    """Files every notebook of an LMS download under ``submitted/<student>/<assignment>/``.

    Args:
        course: the course directory.
        assignment: the assignment id.
        archive: the zip the LMS produced.
        fmt: ``plain``, ``canvas`` or ``moodle``.
        mapping: optional CSV ``lms_id,student_id``.
        limits: sizes and counts the archive may reach (default: :meth:`ArchiveLimits.from_env`).

    Returns:
        The report: one line per collected notebook, ignored resubmission, refused id or
        entry, or unreadable name (names shown escaped).

    Raises:
        CollectError: unknown format, bad mapping file, or more entries than the limit
            (then nothing is written).
    """
    try:
        lms = preset(fmt)
    except UnknownPreset as exc:
        raise CollectError(str(exc)) from None
    limits = limits or ArchiveLimits.from_env()
    deadlines = load(course)  # with a due date, each submission's time is kept for nbgrader (timestamp.txt)
    due = deadlines.due.get(assignment)
    notebooks = expected_notebooks(course, assignment)
    ids = read_mapping(mapping)
    findings: list[Finding] = []
    submitted = course / "submitted"
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise CollectError(
                f"{archive.name} has {len(infos):,} entries, over the limit of "
                f"{limits.max_entries:,} (MOVIEREC_ZIP_MAX_ENTRIES); nothing was collected."
            )
        chosen = _latest_entries(infos, lms, notebooks, ids, mapping, assignment, findings)
        budget = limits.max_total_bytes
        for (student, notebook), entry in sorted(chosen.items()):
            target = path_inside(submitted, student, assignment, notebook)
            written = _extract(zf, entry, target, limits, budget, (student, assignment), findings)
            if written is None:
                continue
            budget -= written
            shown = terminal_safe(entry.member.filename)
            where = target.relative_to(course.resolve())
            findings.append(Finding(student, assignment, shown, f"collected as {where}"))
            if due is not None:
                when = deadlines.local_to_utc(dt.datetime(*entry.member.date_time))
                findings += _keep_time(target.parent, entry, when, due, lms, assignment)
    return findings


def _extract(
    zf, entry, target: Path, limits, budget: int, who: tuple[str, str], findings: list
) -> int | None:
    """Writes one chosen entry to ``target``: its size, or None (and a finding) when it cannot be."""
    shown = terminal_safe(entry.member.filename)
    try:
        return extract_member(zf, entry.member, target, limits, budget)
    except ArchiveTooLarge as exc:
        findings.append(
            Finding(*who, f"{shown} {exc}", "refused, not collected (MOVIEREC_ZIP_* set the limits)")
        )
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        findings.append(Finding(*who, f"{shown} cannot be read ({type(exc).__name__})", "not collected"))
    return None


def _keep_time(
    folder: Path, entry: Entry, when: dt.datetime, due: dt.datetime, lms: LmsPreset, assignment: str
) -> list[Finding]:
    """Writes nbgrader's ``timestamp.txt`` (the latest file time of the student's notebooks)."""
    stamp = folder / "timestamp.txt"
    if stamp.exists():
        try:
            earlier = dt.datetime.strptime(stamp.read_text().strip(), "%Y-%m-%d %H:%M:%S.%f UTC").replace(
                tzinfo=dt.UTC
            )
            when = max(when, earlier)
        except ValueError:
            pass
    stamp.write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"), encoding="utf-8")
    name = PurePosixPath(entry.member.filename).name
    marked_late = lms.late_marker is not None and bool(lms.late_marker.search(name))
    if marked_late and when <= due:
        return [
            Finding(
                entry.student,
                assignment,
                f"{lms.name.capitalize()} marks {terminal_safe(name)} late, but its file time "
                f"{when:%Y-%m-%d %H:%M} UTC is not after the due date",
                "the file time is used; check the LMS and write timestamp.txt by hand if it is wrong",
            )
        ]
    return []
