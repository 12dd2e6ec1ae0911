"""Grading on a Dask cluster against ``--jobs`` (part of ``make bench``), and a projection.

The 24-student class of ``benchmarks/grading.py`` (notebook 02: 14 correct, 5 wrong, 4 blank,
1 endless training cell), graded in the same run with ``--jobs 2`` and with a local Dask
cluster of 2 worker processes (``--scheduler local:2``), sandbox on. Figures: students per
minute each way; the Dask path's per-task overhead (what one student costs beyond
``--jobs``: scheduling, shipping the bundle and the notebook, a scratch course and its
``generate_assignment``, the merge); and from those, the time for 1,000 students on 10, 50
and 100 workers of 2 cores.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

from grading import ASSIGNMENT, MIX, STUDENTS, _class

from movierec_instructor.grading.autograde import autograde
from movierec_instructor.grading.cluster import autograde_on_cluster


def _grade(way: str) -> tuple[float, Counter]:
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _class(root, MIX)
        start = time.perf_counter()
        if way == "jobs":
            autograde(root, ASSIGNMENT, jobs=2)
        else:
            autograde_on_cluster(root, ASSIGNMENT, "local:2")
        seconds = time.perf_counter() - start
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            return seconds, Counter(s.score for s in gb.assignment_submissions(ASSIGNMENT))


def main() -> None:
    print(f"== {STUDENTS} submissions of {ASSIGNMENT}, sandbox on ==")
    jobs_s, jobs_scores = _grade("jobs")
    dask_s, dask_scores = _grade("dask")
    assert jobs_scores == dask_scores, (jobs_scores, dask_scores)
    jobs_rate, dask_rate = STUDENTS / jobs_s * 60, STUDENTS / dask_s * 60
    print(f"--jobs 2: {jobs_s:.1f} s, {jobs_rate:.1f} students/minute (baseline)")
    print(
        f"Dask, 2 local workers: {dask_s:.1f} s, {dask_rate:.1f} students/minute "
        f"({dask_rate / jobs_rate:.2f}x)"
    )
    per_student = dask_s * 2 / STUDENTS  # worker-seconds per student on the Dask path
    overhead = (dask_s - jobs_s) * 2 / STUDENTS
    print(f"per student on a worker: {per_student:.1f} s, of which Dask-path overhead {overhead:+.1f} s")
    for workers in (10, 50, 100):
        # Assumptions: 2-core workers grade one student at a time each (as here, one task per
        # worker process, 2 processes per machine), the scheduler and merge keep up (the merge
        # ran at the client's pace here), no queueing for a shared filesystem (none is used).
        minutes = 1000 * per_student / (2 * workers) / 60
        print(f"projection, 1,000 students on {workers} workers of 2 cores: {minutes:.1f} minutes")


if __name__ == "__main__":
    main()
