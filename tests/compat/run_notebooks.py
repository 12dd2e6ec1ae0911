"""Runs every notebook of the course in *this* environment, as grading runs it, and checks scores.

Used by `make test-colab` and `make test-oldest` (other environments than the pinned one):

    python tests/compat/run_notebooks.py [--kernel python3] [--track tensorflow]

Each solution notebook must run without an error or stderr and earn every point of every
test cell (visible and hidden checks); each blank release notebook must earn 0. Scores are
read the way nbgrader reads them (the number a test cell shows, see
``movierec_helpers.exercises.selfcheck``). Stored outputs are not compared here: nbval does
that on the pinned environment. Prints one line per notebook and a closing
``N passed, N failed`` line; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from movierec_helpers.exercises.selfcheck import check_notebook

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = ROOT / "tests" / "compat" / "no-release"  # no locked-cell comparison: solutions hold hidden tests


def _problems(report, blank: bool) -> list[str]:
    if blank:
        return [f"{t.grade_id} earned {t.earned:g}, expected 0" for t in report.tests if t.earned != 0]
    found = [
        f"{t.grade_id} earned {t.earned:g} of {t.points:g}" for t in report.tests if t.earned != t.points
    ]
    return found + report.problems


def _track(path: Path) -> str:
    return nbformat.read(path, as_version=4).metadata.get("movierec", {}).get("track", "tensorflow")


def _run_one(path: Path, blank: bool, kernel: str) -> tuple[list[str], float]:
    start = time.perf_counter()
    report = check_notebook(path, kernel_name=kernel, release_root=NOWHERE)
    return _problems(report, blank), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel (default: the stock python3)")
    parser.add_argument(
        "--track", default=None, help="only this track's notebooks (their movierec.track metadata)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="notebooks run at once, each in its own process and kernel (default 2)",
    )
    args = parser.parse_args(argv)
    runs = [
        (folder, path, blank)
        for folder, blank in (("solutions", False), ("notebooks", True))
        for path in sorted((ROOT / folder).glob("*/*.ipynb"))
        if not args.track or _track(path) in (args.track, "shared")
    ]
    passed = failed = 0
    # Kernel start-up, imports and data loading leave a core idle much of the time: two
    # notebooks at once use the machine better. Results are printed in order.
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_run_one, path, blank, args.kernel) for _, path, blank in runs]
        for (folder, path, _), future in zip(runs, futures):
            problems, seconds = future.result()
            status = "ok" if not problems else "FAILED"
            print(
                f"{status} {folder}/{path.name} ({seconds:.0f} s)" + "".join(f"\n    {p}" for p in problems),
                flush=True,
            )
            passed, failed = passed + (not problems), failed + bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
