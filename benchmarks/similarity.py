"""Similarity report speed (part of ``make bench``): 100 synthetic submissions of notebook 02.

Students hand in the solution with names changed, comments added and lines reordered, or
the blank release, at random (seeded). Target: the whole report under 30 s on 2 cores.
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from pathlib import Path

import nbformat

from movierec_instructor.integrity.similarity import similarity, write_csv, write_html

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_matrix_factorization"
STUDENTS = 100


def _variant(source: str, rng: random.Random) -> str:
    """The solution with other names and an added comment (what a copier does)."""
    names = sorted(set(re.findall(r"\b([a-z_][a-z0-9_]{2,})\s*=", source)))
    for name in names:
        if rng.random() < 0.7:
            source = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(100)}", source)
    return source.replace("### BEGIN SOLUTION", f"### BEGIN SOLUTION\n    # attempt {rng.randrange(10)}")


def make_class(course: Path, seed: int = 0) -> None:
    """Writes ``STUDENTS`` submissions into ``course/submitted``."""
    rng = random.Random(seed)
    (course / "solutions").symlink_to(ROOT / "solutions")
    (course / "notebooks").symlink_to(ROOT / "notebooks")
    solution = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    release = ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for k in range(STUDENTS):
        nb = nbformat.read(release if rng.random() < 0.1 else solution, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = _variant(cell.source, rng)
            if cell.cell_type == "code":
                cell.outputs = []
        target = course / "submitted" / f"student{k:03d}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)


def main() -> None:
    print(f"== Similarity report: {STUDENTS} submissions of {ASSIGNMENT} ==")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        make_class(course)
        start = time.perf_counter()
        matches = similarity(course, ASSIGNMENT)
        write_csv(matches, course / "similarity.csv")
        write_html(matches, course / "similarity.html")
        seconds = time.perf_counter() - start
    print(f"{len(matches):,} compared pairs in {seconds:.1f} s (target: under 30 s)")


if __name__ == "__main__":
    main()
