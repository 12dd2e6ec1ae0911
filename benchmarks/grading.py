"""Grading throughput (part of ``make bench``): students per minute with 1 and 2 jobs.

A class of identical, correct submissions of ``02_matrix_factorization`` (the solution
notebook without outputs) is graded from scratch with ``movierec autograde --jobs N``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from movierec_instructor.autograde import autograde
from movierec_instructor.course import write_submission

ROOT = Path(__file__).resolve().parents[1]

ASSIGNMENT = "02_matrix_factorization"
STUDENTS = 4


def _class(root: Path) -> None:
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    source = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for k in range(STUDENTS):
        write_submission(source, root / "submitted" / f"student{k}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def main() -> None:
    print(f"== Grading {STUDENTS} submissions of {ASSIGNMENT} (full marks expected) ==")
    rates = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _class(root)
            start = time.perf_counter()
            autograde(root, ASSIGNMENT, jobs=jobs)
            seconds = time.perf_counter() - start
            from nbgrader.api import Gradebook

            with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
                scores = sorted(s.score for s in gb.assignment_submissions(ASSIGNMENT))
        rates[jobs] = STUDENTS / seconds * 60
        print(f"jobs={jobs}: {seconds:6.1f} s, {rates[jobs]:5.2f} students/minute, scores {scores}")
    print(f"speed-up with 2 jobs: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
