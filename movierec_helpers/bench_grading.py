"""Grading throughput (part of ``make bench``): students per minute with 1 and 2 jobs.

A class of identical, correct submissions of ``02_matrix_factorization`` (the solution
notebook without outputs) is graded from scratch with ``movierec autograde --jobs N``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from movierec_helpers import autograde as grading
from movierec_helpers.course import ROOT

ASSIGNMENT = "02_matrix_factorization"
STUDENTS = 4


def _class(root: Path) -> None:
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    for k in range(STUDENTS):
        target = root / "submitted" / f"student{k}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)


def main() -> None:
    print(f"== Grading {STUDENTS} submissions of {ASSIGNMENT} (full marks expected) ==")
    rates = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _class(root)
            start = time.perf_counter()
            grading.autograde(root, ASSIGNMENT, jobs=jobs)
            seconds = time.perf_counter() - start
            from nbgrader.api import Gradebook

            with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
                scores = sorted(s.score for s in gb.assignment_submissions(ASSIGNMENT))
        rates[jobs] = STUDENTS / seconds * 60
        print(f"jobs={jobs}: {seconds:6.1f} s, {rates[jobs]:5.2f} students/minute, scores {scores}")
    print(f"speed-up with 2 jobs: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
