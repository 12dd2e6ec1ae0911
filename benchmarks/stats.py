"""`movierec stats` speed (part of ``make bench``): 1,000 synthetic students of notebook 02.

Each student's autograded notebook is the source notebook with every test cell's output set
to its check lines, passed or failed at random (a fixed seed). Figure: seconds to read them
back, analyse and write the CSV/JSON/HTML (goal: under 10 s). Baseline in the same run:
reading the same notebooks with nbformat alone (the floor any reader pays).
Recording costs grading nothing: the check lines are the test cells' own output.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from movierec_instructor.stats.item_analysis import declared_checks
from movierec_instructor.stats.item_report import write_stats

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT, STUDENTS = "02_matrix_factorization", 1000


def plant(course: Path) -> None:
    source = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    (course / "solutions" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(source, course / "solutions" / ASSIGNMENT / source.name)
    checks = declared_checks(source)
    nb = nbformat.read(source, as_version=4)
    rng = random.Random(0)
    for i in range(STUDENTS):
        skill = rng.random()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            mine = [c for c in checks if c.exercise == grade_id]
            if mine:
                lines = [
                    f"✓ {c.label} ({c.points:g} of {c.points:g})"
                    if rng.random() < skill
                    else f"✗ {c.label} (0 of {c.points:g}): a planted failure"
                    for c in mine
                ]
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
        target = course / "autograded" / f"s{i:04d}" / ASSIGNMENT / source.name
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        plant(course)
        start = time.perf_counter()
        for path in (course / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb"):
            nbformat.read(path, as_version=4)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        write_stats(course, ASSIGNMENT, course / "out")
        seconds = time.perf_counter() - start
    print(
        f"movierec stats, {STUDENTS} students of {ASSIGNMENT}: {seconds:.2f} s (goal < 10 s); "
        f"reading the notebooks alone (baseline) {baseline:.2f} s; ratio {seconds / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
