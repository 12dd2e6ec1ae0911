"""Grading throughput (part of ``make bench``): kernel start-up and students per minute.

1. Start-up of one grading kernel (``movierec-grading``) until it answers, in the OS sandbox
   and without it (``MOVIEREC_SANDBOX=0``), median of several starts.
2. A class of identical, correct submissions of ``02_matrix_factorization`` (the solution
   notebook without outputs) graded from scratch with ``autograde``: sandbox on and off,
   1 and 2 jobs, in the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from movierec_instructor.autograde import autograde
from movierec_instructor.course import write_submission

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_matrix_factorization"
STUDENTS = 4
STARTS = 5


def _class(root: Path) -> None:
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    source = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for k in range(STUDENTS):
        write_submission(source, root / "submitted" / f"student{k}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def kernel_start_seconds(sandbox: bool) -> float:
    """Median seconds from starting a grading kernel to its first reply."""
    from jupyter_client.manager import KernelManager

    times = []
    for _ in range(STARTS):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["MOVIEREC_SANDBOX"] = "1" if sandbox else "0"
            workdir = Path(tmp) / "work"
            workdir.mkdir()
            start = time.perf_counter()
            km = KernelManager(kernel_name="movierec-grading", transport="ipc", ip=f"{tmp}/kernel")
            km.start_kernel(cwd=str(workdir))
            client = km.client()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            times.append(time.perf_counter() - start)
            client.stop_channels()
            km.shutdown_kernel(now=True)
    os.environ.pop("MOVIEREC_SANDBOX", None)
    return statistics.median(times)


def main() -> None:
    print("== Grading kernel start-up (median of 5) ==")
    on, off = kernel_start_seconds(True), kernel_start_seconds(False)
    print(f"sandbox on: {on:.2f} s, off: {off:.2f} s, sandbox overhead {on - off:+.2f} s per notebook")
    print(f"== Grading {STUDENTS} submissions of {ASSIGNMENT} (full marks expected) ==")
    rates = {}
    for sandbox in (True, False):
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                _class(root)
                start = time.perf_counter()
                autograde(root, ASSIGNMENT, jobs=jobs, sandbox=sandbox)
                seconds = time.perf_counter() - start
                from nbgrader.api import Gradebook

                with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
                    scores = sorted(s.score for s in gb.assignment_submissions(ASSIGNMENT))
            rates[sandbox, jobs] = STUDENTS / seconds * 60
            print(f"sandbox={'on ' if sandbox else 'off'} jobs={jobs}: {seconds:6.1f} s, "
                  f"{rates[sandbox, jobs]:5.2f} students/minute, scores {scores}")
    print(f"speed-up with 2 jobs (sandbox on): {rates[True, 2] / rates[True, 1]:.2f}x")
    print(f"sandbox on / off with 2 jobs: {rates[True, 2] / rates[False, 2]:.2f} of the throughput")


if __name__ == "__main__":
    main()
