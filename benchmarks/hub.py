"""The hub's grading service (part of ``make bench``): submit-to-feedback time and throughput.

1. Ten students hand in notebook 02 (``02_matrix_factorization``, the solution) within one
   minute, one every six seconds, into nbgrader's exchange as ``nbgrader submit`` does; the
   service (``movierec grade-service``, 2 workers, 2 warm kernels with TensorFlow imported)
   grades them. For each hand-in: seconds from the hand-in until its feedback page is where
   ``nbgrader fetch_feedback`` finds it; p50 and p95.
2. The same ten hand-ins all at once: the service's time to grade them all (warm pool) with
   each job a new interpreter (``--fresh-jobs``, batching up to 4: the service before its
   long-lived workers; the baseline of the ratios), with workers one hand-in per job
   (``--batch 1``) and batching up to 4 (its default), and ``movierec autograde --jobs 2`` on
   the same ten submissions, in the same run.
3. A projection for a 16-core node and 300 students, from the measured seconds per hand-in
   (the assumptions are printed).
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from movierec_instructor.course import write_submission
from movierec_instructor.grading.autograde import autograde
from movierec_instructor.grading.nbgrader_runner import run_nbgrader, tool_env
from movierec_instructor.hub.release import feedback_path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_matrix_factorization"
COURSE_ID = "bench"
STUDENTS = 10
SPREAD = 60.0  # seconds over which the ten hand-ins arrive
WORKERS = 2
IMPORTS = "numpy,pandas,movierec_helpers,movierec_helpers.exercises,tensorflow,keras"


def _course(root: Path) -> tuple[Path, Path]:
    course, exchange = root / "course", root / "exchange"
    exchange.mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copytree(ROOT / "notebooks" / ASSIGNMENT, course / "notebooks" / ASSIGNMENT)
    extra = f"\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + extra)
    run_nbgrader(course, "release_assignment", ASSIGNMENT, "--force", check=True)
    return course, exchange


def _hand_in(exchange: Path, student: str) -> Path:
    """What ``nbgrader submit`` writes into ``inbound/`` (the copy first, timestamp and secret last)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC", time.gmtime())
    folder = exchange / COURSE_ID / "inbound" / f"{student}+{ASSIGNMENT}+{stamp}+{secrets.token_hex(6)}"
    solution = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    write_submission(solution, folder / f"{ASSIGNMENT}.ipynb")
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
    return folder


def _service(course: Path, exchange: Path, batch: int = 4, fresh: bool = False) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "movierec_instructor.cli", "--course", str(course), "grade-service",
        f"--exchange={exchange}", f"--course-id={COURSE_ID}", "--no-owner-check",
        f"--workers={WORKERS}", f"--pool={WORKERS}", f"--imports={IMPORTS}", f"--batch={batch}",
        *(["--fresh-jobs"] if fresh else []),
    ]  # fmt: skip
    return subprocess.Popen(command, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_warm(course: Path, timeout: float = 600) -> None:
    pool = course / "hub-state" / "pool"
    deadline = time.monotonic() + timeout
    while len(list(pool.glob("*/ready.json"))) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.5)


def _latencies(
    exchange: Path, arrivals: dict[Path, float], timeout: float = 1800, done: dict[Path, float] | None = None
) -> dict[Path, float]:
    """Seconds from each hand-in until its feedback page is in the exchange (``done``: those seen so far)."""
    feedback = exchange / COURSE_ID / "feedback"
    done = {} if done is None else done
    deadline = time.monotonic() + timeout
    while len(done) < len(arrivals) and time.monotonic() < deadline:
        for folder, at in arrivals.items():
            if folder not in done and feedback_path(feedback, folder, ASSIGNMENT).exists():
                done[folder] = time.monotonic() - at
        time.sleep(0.2)
    return done


def spread_run(root: Path) -> list[float]:
    """Part 1: ten hand-ins over a minute; each one's seconds to feedback."""
    course, exchange = _course(root / "spread")
    service = _service(course, exchange)
    try:
        _wait_warm(course)
        arrivals: dict[Path, float] = {}
        done: dict[Path, float] = {}
        start = time.monotonic()
        for k in range(STUDENTS):
            arrivals[_hand_in(exchange, f"s{k:02d}")] = time.monotonic()
            # Watch for feedback while the others arrive (a page seen late would count as slow).
            next_at = start + (k + 1) * SPREAD / STUDENTS
            _latencies(exchange, arrivals, max(0.0, next_at - time.monotonic()), done)
            time.sleep(max(0.0, next_at - time.monotonic()))
        return sorted(_latencies(exchange, arrivals, done=done).values())
    finally:
        service.terminate()
        service.wait()


def _burst(root: Path, batch: int, fresh: bool = False) -> tuple[float, dict[Path, float]]:
    """Ten hand-ins at once to a service grading up to ``batch`` per job; seconds until all have feedback."""
    course, exchange = _course(root)
    service = _service(course, exchange, batch, fresh)
    try:
        _wait_warm(course)
        start = time.monotonic()
        arrivals = {_hand_in(exchange, f"s{k:02d}"): start for k in range(STUDENTS)}
        return max(_latencies(exchange, arrivals).values()), arrivals
    finally:
        service.terminate()
        service.wait()


def burst_run(root: Path) -> dict[str, float]:
    """Part 2: ten hand-ins at once; seconds for all ten: the service with each job a new interpreter
    (batching up to 4, as before the workers), with long-lived workers one hand-in per job and
    batching up to 4, and ``autograde --jobs 2`` on the same ten submissions."""
    seconds = {"service, each job a new interpreter, batching up to 4": _burst(root / "fresh", 4, True)[0]}
    seconds["service, workers, one hand-in per job"] = _burst(root / "burst-one", batch=1)[0]
    seconds["service, workers, batching up to 4"], arrivals = _burst(root / "burst", batch=4)
    batch = root / "batch"
    course = root / "burst" / "course"
    shutil.copytree(course / "solutions", batch / "solutions")
    shutil.copytree(course / "notebooks", batch / "notebooks")
    shutil.copy(course / "nbgrader_config.py", batch)
    for folder in arrivals:
        student = folder.name.split("+")[0]
        shutil.copytree(folder, batch / "submitted" / student / ASSIGNMENT)
    start = time.monotonic()
    autograde(batch, ASSIGNMENT, jobs=WORKERS)
    seconds[f"movierec autograde --jobs {WORKERS}"] = time.monotonic() - start
    return seconds


def main() -> None:
    """Prints the three parts' figures (the service with its defaults in part 1 and 3)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        latencies = spread_run(root)
        if len(latencies) < STUDENTS:
            print(f"only {len(latencies)} of {STUDENTS} hand-ins got feedback")
        if latencies:
            p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
            print(
                f"hub, {STUDENTS} hand-ins of {ASSIGNMENT} over {SPREAD:.0f} s, {WORKERS} workers: "
                f"submit-to-feedback p50 {statistics.median(latencies):.1f} s, p95 {p95:.1f} s, "
                f"max {latencies[-1]:.1f} s"
            )
        seconds = burst_run(root)
        baseline = seconds["service, each job a new interpreter, batching up to 4"]
        print(f"{STUDENTS} hand-ins at once, {WORKERS} workers, seconds until all have feedback:")
        for name, value in seconds.items():
            print(f"  {name}: {value:.1f} s ({STUDENTS / value * 60:.1f}/min, {baseline / value:.2f}x)")
        service_s = min(v for k, v in seconds.items() if "workers" in k)
        per_hand_in = service_s * WORKERS / STUDENTS  # core-seconds per hand-in here, batching
        alone = latencies[0] if latencies else float("nan")  # the fastest: a hand-in that did not wait
        cores, students, workers = 16, 300, 14
        busy = 30 * per_hand_in / 60  # workers kept busy by 30 hand-ins a minute
        all_at_once = students * per_hand_in / workers / 60
        print(
            f"projection, {cores}-core node: assumes {per_hand_in:.1f} core-seconds per hand-in in a burst "
            f"(measured here, {os.cpu_count()} cores), {workers} workers (2 cores left to the hub and the "
            f"students' idle servers), no memory limit reached (about 1.5 GB per TensorFlow kernel): "
            f"{students} hand-ins at once graded in {all_at_once:.1f} min; 30 hand-ins within a minute keep "
            f"{busy:.1f} of {workers} workers busy, so "
            + (
                f"none waits for a worker and each gets feedback in about the {alone:.0f} s a hand-in "
                "that did not wait took here"
                if busy < workers / 2
                else "hand-ins queue: expect waits on top of the time of one hand-in"
            )
        )


if __name__ == "__main__":
    main()
