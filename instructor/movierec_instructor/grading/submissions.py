"""Checking and repairing every submission before nbgrader grades it.

Each check is one function that takes a student's assignment folder and returns the
report lines (:class:`Finding`) of what it found and did. A notebook that cannot be graded
as handed in is set aside (kept as ``*.rejected``) and replaced by the blank release
notebook, so the student is graded 0 and still appears in the gradebook.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from movierec_instructor.integrity.tamper_scan import notebook_code, tampering
from movierec_instructor.integrity.untrusted import is_student_id, terminal_safe

NOT_GRADED = "NOT GRADED"  # the start of a report action for a student nobody graded (a machine fault)
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
NBGRADER_FLAGS = ("grade", "solution", "locked", "task")


@dataclass(frozen=True)
class Finding:
    """One line of the grading report."""

    student: str
    assignment: str
    problem: str
    action: str


def set_aside(path: Path, blank: Path) -> Path:
    """Keeps ``path`` as ``<name>.rejected`` and puts the blank notebook in its place."""
    kept = path.with_name(path.name + ".rejected")
    shutil.move(path, kept)
    shutil.copy(blank, path)
    return kept


def expected_notebooks(course: Path, assignment: str) -> list[str]:
    """The notebook names of an assignment, from its source folder."""
    return sorted(p.name for p in (course / "solutions" / assignment).glob("*.ipynb"))


def find_assignment_folder(
    student_dir: Path, assignment: str, expected: list[str]
) -> tuple[Path | None, list[str]]:
    """The student's folder of the assignment, renaming a misnamed one; None if not submitted."""
    folder = student_dir / assignment
    if folder.exists():
        return folder, []
    candidates = [d for d in student_dir.iterdir() if d.is_dir() and any((d / n).exists() for n in expected)]
    if len(candidates) != 1:
        return None, []
    candidates[0].rename(folder)
    return folder, [f"assignment folder named {candidates[0].name!r} -> renamed to {assignment!r}"]


def restore_notebook_name(
    folder: Path, name: str, expected: list[str], blank: Path
) -> tuple[bool, str | None]:
    """Puts a renamed notebook back under ``name``; a missing one becomes the blank notebook.

    Returns:
        ``(present, note)``: whether the student's own notebook is there to grade, and a
        report line (``"problem -> action"``) or None.
    """
    path = folder / name
    if path.exists():
        return True, None
    strays = sorted(p for p in folder.glob("*.ipynb") if p.name not in expected)
    if len(strays) == 1:
        strays[0].rename(path)
        return True, f"notebook named {strays[0].name!r} -> renamed to {name!r}"
    shutil.copy(blank, path)
    return False, f"no notebook {name!r} -> graded as the blank notebook (0)"


def read_valid_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, int, str | None]:
    """Reads a notebook, upgrading old formats; ``(None, 0, why)`` if it is not a valid notebook."""
    try:
        version = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT).nbformat
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is handled the same way
        return None, 0, f"{type(exc).__name__}: {str(exc)[:120]}"
    return nb, version, None


def nbgrader_metadata_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Cells whose ``metadata.nbgrader`` has a shape nbgrader does not expect (it may abort on them)."""
    problems = []
    for number, cell in enumerate(nb.cells, start=1):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        if not isinstance(meta, dict):
            problems.append(f"cell {number}: nbgrader metadata is a {type(meta).__name__}, not a mapping")
            continue
        for flag in NBGRADER_FLAGS:
            if flag in meta and not isinstance(meta[flag], bool):
                problems.append(
                    f"cell {number}: nbgrader '{flag}' is {terminal_safe(repr(meta[flag]))[:40]}, not "
                    "true/false"
                )
        if "grade_id" in meta and not (
            isinstance(meta["grade_id"], str) and GRADE_ID.match(meta["grade_id"])
        ):
            problems.append(
                f"cell {number}: nbgrader 'grade_id' is {terminal_safe(repr(meta['grade_id']))[:40]}"
            )
        points = meta.get("points", 0)
        if (
            isinstance(points, bool)
            or not isinstance(points, (int, float))
            or not math.isfinite(points)
            or points < 0
        ):
            problems.append(f"cell {number}: nbgrader 'points' is {terminal_safe(repr(points))[:40]}")
        if "schema_version" in meta and not (
            isinstance(meta["schema_version"], int) and not isinstance(meta["schema_version"], bool)
        ):
            problems.append(
                f"cell {number}: nbgrader 'schema_version' is "
                f"{terminal_safe(repr(meta['schema_version']))[:40]}"
            )
    return problems


def drop_repeated_cells(nb: nbformat.NotebookNode) -> list[str]:
    """Removes every graded cell whose ``grade_id`` appeared before; returns the ids removed."""
    seen, duplicates = set(), []
    for cell in list(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id in seen:
            nb.cells.remove(cell)
            duplicates.append(grade_id)
        seen.add(grade_id)
    return sorted(set(duplicates))


def check_notebook(path: Path, blank: Path) -> list[tuple[str, str]]:
    """Runs the per-notebook checks on one submitted notebook; returns (problem, action) pairs."""
    name = path.name
    nb, version, error = read_valid_notebook(path)
    if nb is None:
        kept = set_aside(path, blank)
        return [
            (
                f"{name} is not a valid notebook ({error})",
                f"graded as the blank notebook (0); the file is kept as {kept.name}",
            )
        ]
    shape = nbgrader_metadata_problems(nb)
    if shape:
        kept = set_aside(path, blank)
        return [
            (
                f"{name}: the notebook's grading metadata was edited ({'; '.join(shape[:3])})",
                f"graded as the blank notebook (0); the file is kept as {kept.name}",
            )
        ]
    notes = []
    if version < 4:
        nbformat.write(nb, path)
        notes.append((f"{name} is in notebook format {version}", "upgraded to format 4"))
    duplicates = drop_repeated_cells(nb)
    if duplicates:
        nbformat.write(nb, path)
        notes.append((f"{name} repeats graded cells {duplicates}", "kept the first copy of each"))
    problems = tampering(notebook_code(nb))
    if problems:
        kept = set_aside(path, blank)
        notes.append(
            (
                f"{name} tampers with the tests: {'; '.join(problems)}",
                f"graded 0 for review; the submission is kept as {kept.name}",
            )
        )
    return notes


def prepare_submissions(
    course: Path, assignment: str, release: Path, only: list[str] | None = None
) -> list[Finding]:
    """Checks and repairs ``submitted/*/<assignment>`` before grading.

    Args:
        course: the course directory.
        assignment: the assignment id.
        release: the student release, whose blank notebooks replace unusable submissions.
        only: just these students' folders (a regrade); default all.

    Returns:
        One :class:`Finding` per repair or rejection.
    """
    expected = expected_notebooks(course, assignment)
    findings: list[Finding] = []
    for student_dir in sorted(p for p in (course / "submitted").iterdir() if p.is_dir()):
        student = student_dir.name
        if only is not None and student not in only:
            continue
        if not is_student_id(student):
            findings.append(
                Finding(
                    "?",
                    assignment,
                    f"submitted/{terminal_safe(student)} is not a usable student id",
                    f"{NOT_GRADED}: rename the folder to a valid id and grade again",
                )
            )
            continue
        try:
            pairs = check_student(student_dir, assignment, expected, release)
        except Exception as exc:  # noqa: BLE001 - whatever one submission does fails only that student
            pairs = [
                (
                    f"the submission broke the checks ({type(exc).__name__}: "
                    f"{terminal_safe(str(exc))[:200]})",
                    set_aside_all(student_dir / assignment, expected, release / assignment),
                )
            ]
        findings.extend(Finding(student, assignment, problem, action) for problem, action in pairs)
    return findings


def check_student(
    student_dir: Path, assignment: str, expected: list[str], release: Path
) -> list[tuple[str, str]]:
    """Checks and repairs one student's assignment folder; returns (problem, action) pairs."""
    folder, notes = find_assignment_folder(student_dir, assignment, expected)
    if folder is None:
        return []  # this student did not submit this assignment
    pairs = [tuple(n.split(" -> ")) for n in notes]
    for name in expected:
        blank = release / assignment / name
        present, note = restore_notebook_name(folder, name, expected, blank)
        if note:
            pairs.append(tuple(note.split(" -> ")))
        if present:
            pairs.extend(check_notebook(folder / name, blank))
    for extra in sorted(p.name for p in folder.glob("*.ipynb") if p.name not in expected):
        pairs.append((f"extra notebook {terminal_safe(repr(extra))}", "not graded"))
    return pairs


def set_aside_all(folder: Path, expected: list[str], blanks: Path) -> str:
    """Sets aside every expected notebook in ``folder`` (blank copies in their place); says what was kept."""
    kept = []
    for name in expected:
        path = folder / name
        if path.is_file() and not path.with_name(name + ".rejected").exists():
            kept.append(set_aside(path, blanks / name).name)
        elif not path.exists() and folder.is_dir():
            shutil.copy(blanks / name, path)
    kept_as = ", ".join(kept) or "it was"
    return f"graded as the blank notebook (0) for review; the submission is kept as {kept_as}"
