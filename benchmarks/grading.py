"""Grading throughput (part of ``make bench``): kernel start-up and students per minute.

1. Start-up of one grading kernel (``movierec-grading``) until it answers, in the OS sandbox
   and without it (``MOVIEREC_SANDBOX=0``), median of several starts.
2. Where one student's grading time goes: each cell of notebook 02 timed as nbgrader runs it
   (``NBGRADER_EXECUTION`` set), kernel start-up apart.
3. A class of 24 submissions of ``02_matrix_factorization``: 14 correct, 5 wrong (the MSE
   summed instead of averaged), 4 blank, 1 whose training never ends (stopped at a 20 s
   cell timeout, set for the benchmark instead of the course's 180 s), graded from scratch
   with ``autograde``: sandbox on (1 and 2 jobs) and off (2 jobs). The fixed cost (an empty
   class) is measured apart and students per minute are given without it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

from movierec_instructor.course import write_submission
from movierec_instructor.grading.autograde import autograde

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_matrix_factorization"
MIX = {"correct": 14, "wrong": 5, "blank": 4, "endless": 1}
STUDENTS = sum(MIX.values())
STARTS = 5
CELL_TIMEOUT = 20
WRONG_MSE = "tf.reduce_sum(tf.square("
ENDLESS = "while True:\n    pass\n"


def _class(root: Path, mix: dict[str, int]) -> None:
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    config = (ROOT / "nbgrader_config.py").read_text() + f"\nc.ExecutePreprocessor.timeout = {CELL_TIMEOUT}\n"
    (root / "nbgrader_config.py").write_text(config)
    solution = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    blank = ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    k = 0
    for kind, count in mix.items():
        for _ in range(count):
            target = root / "submitted" / f"{kind}{k:02d}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            write_submission(blank if kind == "blank" else solution, target)
            if kind in ("wrong", "endless"):
                nb = nbformat.read(target, as_version=4)
                for cell in nb.cells:
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    if kind == "wrong" and grade_id == "mse_dense":
                        cell.source = cell.source.replace("tf.reduce_mean(tf.square(", WRONG_MSE)
                    if kind == "endless" and cell.source.startswith("# While grading"):
                        cell.source = ENDLESS + cell.source
                nbformat.write(nb, target)
            k += 1


def cell_profile() -> None:
    """Prints the seconds of each cell of notebook 02 as grading runs it."""
    from nbclient import NotebookClient

    path = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    client = NotebookClient(
        nb, kernel_name="movierec", timeout=600, resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    rows = []
    with client.setup_kernel():
        rows.append(("kernel start", time.perf_counter() - start))
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                begin = time.perf_counter()
                client.execute_cell(cell, i)
                label = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.source.splitlines()[0][:40]
                rows.append((label, time.perf_counter() - begin))
    os.environ.pop("NBGRADER_EXECUTION")
    total = sum(seconds for _, seconds in rows)
    print(f"== One grading of {ASSIGNMENT}, cell by cell ({total:.1f} s in the kernel) ==")
    for label, seconds in rows:
        print(f"  {seconds:6.2f} s  {100 * seconds / total:4.0f}%  {label}")


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
    cell_profile()
    print(f"== Grading {STUDENTS} submissions of {ASSIGNMENT} ({MIX}) ==")
    rates = {}
    for sandbox, jobs in ((True, 2), (False, 2), (True, 1)):
        seconds = {}
        for label, mix in (("fixed", {}), ("class", MIX)):
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                _class(root, mix)
                (root / "submitted").mkdir(exist_ok=True)
                start = time.perf_counter()
                autograde(root, ASSIGNMENT, jobs=jobs, sandbox=sandbox)
                seconds[label] = time.perf_counter() - start
                from nbgrader.api import Gradebook

                with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
                    scores = Counter(s.score for s in gb.assignment_submissions(ASSIGNMENT))
        rates[sandbox, jobs] = STUDENTS / (seconds["class"] - seconds["fixed"]) * 60
        print(
            f"sandbox={'on ' if sandbox else 'off'} jobs={jobs}: {seconds['class']:6.1f} s in all, fixed "
            f"{seconds['fixed']:4.1f} s, {rates[sandbox, jobs]:5.2f} students/minute, "
            f"scores {dict(sorted(scores.items()))}"
        )
    print(f"speed-up with 2 jobs (sandbox on): {rates[True, 2] / rates[True, 1]:.2f}x")
    print(f"sandbox on / off with 2 jobs: {rates[True, 2] / rates[False, 2]:.2f} of the throughput")


if __name__ == "__main__":
    main()
