"""Course maintenance: execute the solution notebooks, generate the student release, time them.

Usage (see the Makefile)::

    python -m movierec_instructor.course execute [ASSIGNMENT ...]   # store fresh outputs
    python -m movierec_instructor.course release [--out DIR]       # nbgrader generate_assignment
    python -m movierec_instructor.course time                      # seconds per notebook
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import tomllib
from pathlib import Path

import nbformat

from movierec_helpers.tracks import SHARED, TRACKS, notebook_track
from movierec_instructor.grading.nbgrader_runner import run_nbgrader

KERNEL = "movierec"


def track_of(course_dir: Path, assignment: str) -> str:
    """The track of an assignment: its notebook's ``movierec.track`` metadata ("tensorflow" when absent).

    ``"shared"`` (framework-free notebooks, e.g. 01) belongs to every track.
    """
    nb = nbformat.read(notebook_path(course_dir, assignment), as_version=4)
    return notebook_track(nb.metadata)


def course_tracks(course_dir: Path) -> list[str]:
    """The tracks a course folder holds (``course.toml``'s ``tracks``; every track when it has none).

    Raises:
        ValueError: ``course.toml`` names a track that does not exist.
    """
    config = Path(course_dir) / "course.toml"
    if not config.exists():
        return list(TRACKS)
    tracks = tomllib.loads(config.read_text()).get("tracks", list(TRACKS))
    unknown = [t for t in tracks if t not in TRACKS]
    if unknown or not tracks:
        raise ValueError(f"{config}: unknown track(s) {unknown or tracks}; use {' and/or '.join(TRACKS)}.")
    return list(tracks)


def assignments(course_dir: Path, track: str | None = None) -> list[str]:
    """Assignment ids of a course (folders of ``solutions/`` holding ``<id>.ipynb``), in order.

    Args:
        course_dir: the course.
        track: only that track's assignments (shared ones included); default: all of them.

    Raises:
        ValueError: unknown track.
    """
    solutions = Path(course_dir) / "solutions"
    names = sorted(p.name for p in solutions.iterdir() if (p / f"{p.name}.ipynb").exists())
    if track is None:
        return names
    if track not in TRACKS:
        raise ValueError(f"Unknown track {track!r}; the tracks are {', '.join(TRACKS)}.")
    return [n for n in names if track_of(course_dir, n) in (track, SHARED)]


def notebook_path(course_dir: Path, assignment: str) -> Path:
    """The source notebook of an assignment."""
    return Path(course_dir) / "solutions" / assignment / f"{assignment}.ipynb"


def write_submission(source: Path, target: Path) -> Path:
    """Writes ``source`` to ``target`` as a student hands it in: code outputs cleared."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def stderr_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Texts of every stderr stream output in a notebook (there should be none)."""
    return [
        f"cell {i}: {out.get('text', '')[:300]}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]


def execute_notebook(
    path: Path, timeout: int = 300, env: dict[str, str] | None = None
) -> tuple[nbformat.NotebookNode, float]:
    """Executes a notebook in its folder with the course kernel; returns it and the seconds taken."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    run_env = {**os.environ, "MOVIEREC_PROGRESS": "0", **(env or {})}
    saved = os.environ.copy()
    os.environ.update(run_env)  # the kernel inherits this process's environment
    try:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name=KERNEL, resources={"metadata": {"path": str(path.parent)}}
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb, seconds


def execute(course_dir: Path, names: list[str]) -> None:
    """Re-executes solution notebooks and stores them with their outputs."""
    for name in names or assignments(course_dir):
        path = notebook_path(course_dir, name)
        nb, seconds = execute_notebook(path)
        noise = stderr_outputs(nb)
        if noise:
            raise SystemExit(f"{name} wrote to stderr; fix before storing:\n" + "\n".join(noise))
        for cell in nb.cells:
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(nb, path)
        print(f"{name}: executed in {seconds:.1f} s")


def release(course_dir: Path, out: Path | None = None) -> None:
    """Generates the student version of every assignment of ``course_dir`` with nbgrader.

    Args:
        course_dir: the course (its ``solutions/`` and ``nbgrader_config.py``).
        out: the release folder (default ``course_dir/notebooks``).

    Raises:
        RuntimeError: nbgrader failed on an assignment.
    """
    course_dir = Path(course_dir).resolve()
    out = Path(out or course_dir / "notebooks").resolve()
    with tempfile.TemporaryDirectory() as tmp:
        for name in assignments(course_dir):
            run_nbgrader(
                course_dir,
                "generate_assignment",
                name,
                "--force",
                f"--CourseDirectory.root={course_dir}",
                f"--CourseDirectory.release_directory={out}",
                db=f"sqlite:///{Path(tmp) / 'gradebook.db'}",
                check=True,
                log_level="WARN",
            )
    for leftover in out.glob("*/.ipynb_checkpoints"):
        shutil.rmtree(leftover)


def time_course(course_dir: Path) -> None:
    """Prints the execution time of every solution notebook and of the whole course."""
    total = 0.0
    for name in assignments(course_dir):
        _, seconds = execute_notebook(notebook_path(course_dir, name))
        total += seconds
        print(f"{name:32s} {seconds:6.1f} s")
    print(f"{'whole course':32s} {total:6.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="movierec course maintenance")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course directory")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("execute", help="execute solutions/ and store outputs")
    run.add_argument("names", nargs="*")
    rel = sub.add_parser("release", help="generate notebooks/ with nbgrader")
    rel.add_argument("--out", type=Path, default=None)
    sub.add_parser("time", help="time each solution notebook")
    args = parser.parse_args(argv)
    if args.command == "execute":
        execute(args.course, args.names)
    elif args.command == "release":
        release(args.course, args.out)
    else:
        time_course(args.course)


if __name__ == "__main__":
    main()
