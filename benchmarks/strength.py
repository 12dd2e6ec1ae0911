"""Test-strength speed (part of ``make bench``): every mutant of all six assignments.

Figure: seconds for ``movierec test-strength`` on the whole course (target: under 10
minutes on 2 cores). Baseline, in the same run: what a per-mutant process costs, as
mutmut or cosmic-ray would run it (a fresh kernel executes the whole notebook with the
mutant in place), measured on a few mutants of notebook 02 and scaled to the course.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat

from movierec_helpers.exercises.reference import library_answers
from movierec_instructor.course import assignments, execute_notebook, notebook_path
from movierec_instructor.integrity.similarity import import_library
from movierec_instructor.strength.mutation import all_mutants
from movierec_instructor.strength.runner import measure_assignment

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ASSIGNMENT, SAMPLE_EXERCISE, SAMPLE_SIZE = "02_matrix_factorization", "mse_gather", 3


def fresh_process_seconds() -> float:
    """Mean seconds to test one mutant by executing its whole notebook in a fresh kernel."""
    import_library()
    source = notebook_path(ROOT, SAMPLE_ASSIGNMENT)
    nb = nbformat.read(source, as_version=4)
    index = next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == SAMPLE_EXERCISE
    )
    mutants = all_mutants(SAMPLE_EXERCISE, nb.cells[index].source, library_answers(SAMPLE_EXERCISE))
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for mutant in mutants[:SAMPLE_SIZE]:
            nb.cells[index].source = mutant.source
            path = Path(tmp) / source.name
            nbformat.write(nb, path)
            start = time.perf_counter()
            try:
                execute_notebook(path, env={"NBGRADER_EXECUTION": "autograde"})
            except Exception:  # noqa: BLE001 - a killed mutant stops the notebook: that is its cost
                pass
            seconds.append(time.perf_counter() - start)
    return sum(seconds) / len(seconds)


def main() -> None:
    start = time.perf_counter()
    mutants = 0
    for name in assignments(ROOT):
        begun = time.perf_counter()
        strengths = measure_assignment(ROOT, name)
        count = sum(len(s.results) for s in strengths)
        mutants += count
        print(f"test strength {name}: {count} mutants in {time.perf_counter() - begun:.1f} s")
    total = time.perf_counter() - start
    per_mutant = total / mutants
    fresh = fresh_process_seconds()
    print(
        f"test strength, all six assignments: {mutants} mutants in {total:.0f} s "
        f"({per_mutant:.2f} s per mutant, notebooks' own cells included; target < 600 s)"
    )
    print(
        f"baseline, a fresh kernel per mutant ({SAMPLE_SIZE} mutants of {SAMPLE_EXERCISE}): {fresh:.1f} s "
        "per "
        f"mutant, about {fresh * mutants / 60:.0f} min for the course; one kernel per assignment is "
        f"{fresh / per_mutant:.0f}x faster"
    )


if __name__ == "__main__":
    main()
