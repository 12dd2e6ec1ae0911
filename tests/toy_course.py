"""The one builder of the small nbgrader courses the instructor tests grade.

Two kinds: a course that grades this repository's own assignments (``linked_course``: its
solutions and release linked in), and a toy course made from one source notebook a test
writes (``toy_course``: nbgrader generates the release and the gradebook), with a class
handed in by ``hand_in``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import nbformat

from movierec_instructor.grading.nbgrader_runner import run_nbgrader

ROOT = Path(__file__).resolve().parents[1]


def write_config(course: Path, extra: str = "") -> None:
    """The course's ``nbgrader_config.py`` (the repository's, plus ``extra`` lines)."""
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + extra)


def linked_course(course: Path) -> Path:
    """A course folder that grades this repository's assignments: ``solutions/`` and ``notebooks/`` linked."""
    course.mkdir(parents=True, exist_ok=True)
    for folder in ("solutions", "notebooks"):
        (course / folder).symlink_to(ROOT / folder)
    write_config(course)
    return course


def toy_course(
    course: Path,
    assignment: str,
    source: nbformat.NotebookNode,
    *,
    config_extra: str = "",
    files: Mapping[str, str] | None = None,
) -> str:
    """A course of one assignment made from ``source``, released by nbgrader; returns its gradebook URL.

    Args:
        course: the folder (created).
        assignment: the assignment id (the notebook is ``<assignment>.ipynb``).
        source: the instructor's notebook (solutions and tests in nbgrader cells).
        config_extra: lines added to the repository's ``nbgrader_config.py``.
        files: further files of the course folder (``deadlines.toml``, ``extensions.csv``, ...).
    """
    (course / "solutions" / assignment).mkdir(parents=True)
    nbformat.write(source, course / "solutions" / assignment / f"{assignment}.ipynb")
    write_config(course, config_extra)
    for name, text in (files or {}).items():
        (course / name).write_text(text)
    db = f"sqlite:///{course / 'gradebook.db'}"
    release = f"--CourseDirectory.release_directory={course / 'notebooks'}"
    run_nbgrader(course, "generate_assignment", assignment, "--force", release, db=db)
    return db


def hand_in(
    course: Path,
    assignment: str,
    notebooks: Mapping[str, nbformat.NotebookNode],
    timestamp: str | None = None,
) -> None:
    """Puts each student's notebook under ``submitted/<student>/<assignment>/`` (and its time, if given)."""
    for student, nb in notebooks.items():
        target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
        if timestamp is not None:
            (target.parent / "timestamp.txt").write_text(timestamp)
