"""Course maintenance: execute the solution notebooks, generate the student release, time them.

Usage (see the Makefile)::

    python -m movierec_helpers.course execute [ASSIGNMENT ...]   # store fresh outputs
    python -m movierec_helpers.course release [--out DIR]       # nbgrader generate_assignment
    python -m movierec_helpers.course time                      # seconds per notebook
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
KERNEL = "movierec"


def assignments() -> list[str]:
    """Assignment ids, in course order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").exists())


def notebook_path(assignment: str) -> Path:
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def stderr_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Texts of every stderr stream output in a notebook (there should be none)."""
    return [
        f"cell {i}: {out.get('text', '')[:300]}"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]


def execute_notebook(path: Path, timeout: int = 300, env: dict[str, str] | None = None) -> tuple[nbformat.NotebookNode, float]:
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


def execute(names: list[str]) -> None:
    """Re-executes solution notebooks and stores them with their outputs."""
    for name in names or assignments():
        path = notebook_path(name)
        nb, seconds = execute_notebook(path)
        noise = stderr_outputs(nb)
        if noise:
            raise SystemExit(f"{name} wrote to stderr; fix before storing:\n" + "\n".join(noise))
        for cell in nb.cells:
            cell.get("metadata", {}).pop("execution", None)
        nbformat.write(nb, path)
        print(f"{name}: executed in {seconds:.1f} s")


def tool_env() -> dict[str, str]:
    """The environment with this interpreter's scripts first on PATH (nbgrader runs `alembic`)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def release(out: Path = RELEASE, course_dir: Path = ROOT) -> None:
    """Generates the student version of every assignment with nbgrader into ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "gradebook.db"
        for name in assignments():
            subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
                 f"--CourseDirectory.root={course_dir}",
                 f"--CourseDirectory.release_directory={out}",
                 f"--CourseDirectory.db_url=sqlite:///{db}",
                 "--log-level=WARN"],
                check=True,
                cwd=course_dir,
                env=tool_env(),
            )
    for leftover in out.glob("*/.ipynb_checkpoints"):
        shutil.rmtree(leftover)


def time_course() -> None:
    """Prints the execution time of every solution notebook and of the whole course."""
    total = 0.0
    for name in assignments():
        _, seconds = execute_notebook(notebook_path(name))
        total += seconds
        print(f"{name:32s} {seconds:6.1f} s")
    print(f"{'whole course':32s} {total:6.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="movierec course maintenance")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("execute", help="execute solutions/ and store outputs")
    run.add_argument("names", nargs="*")
    rel = sub.add_parser("release", help="generate notebooks/ with nbgrader")
    rel.add_argument("--out", type=Path, default=RELEASE)
    sub.add_parser("time", help="time each solution notebook")
    args = parser.parse_args(argv)
    if args.command == "execute":
        execute(args.names)
    elif args.command == "release":
        release(args.out)
    else:
        time_course()


if __name__ == "__main__":
    main()
