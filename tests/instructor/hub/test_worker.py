"""The service's long-lived grading workers: each job a fork in its own session (issue #37)."""

import fcntl
import os
import signal
import time
from pathlib import Path

from movierec_instructor.grading.nbgrader_runner import tool_env
from movierec_instructor.hub.release import LOCK
from movierec_instructor.hub.worker import Workers
from tests.instructor.grading.test_cluster import _notebook
from tests.toy_course import toy_course

ASSIGNMENT = "planted"


def _ended(job, timeout=60):
    deadline = time.monotonic() + timeout
    while job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return job.returncode


def _held_job(tmp_path: Path) -> list[str]:
    """A job's command line that waits for the registration lock (held by the test) before grading."""
    course, cache = tmp_path / "course", tmp_path / "gradebooks"
    toy_course(course, ASSIGNMENT, _notebook())
    handed_in = tmp_path / "hand-in"
    handed_in.mkdir()
    cache.mkdir()
    return [
        "--course", str(course), "--job", str(tmp_path / "job"), "--feedback-dir", str(tmp_path / "feedback"),
        "--assignment", ASSIGNMENT, "--gradebooks", str(cache), "--hand-in", "s1", str(handed_in),
        str(tmp_path / "result.json"),
    ]  # fmt: skip


def test_jobs_are_forks_of_one_worker_each_in_its_own_process_group(tmp_path):
    argv = _held_job(tmp_path)
    workers = Workers(1, tool_env())
    try:
        workers.warm()
        (worker,) = workers.workers
        bad = workers.start(["--no-such-option"], {}, tmp_path / "bad.log")
        assert _ended(bad) == 2  # argparse's status for a bad command line
        assert "usage: movierec_instructor.hub.job" in (tmp_path / "bad.log").read_text()
        with open(tmp_path / "gradebooks" / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            job = workers.start(argv, {}, tmp_path / "job.log")
            # The group exists as soon as the service hears of the job: the service can always kill it.
            assert os.getpgid(job.pid) == job.pid != os.getpgid(worker.process.pid)
            os.killpg(job.pid, signal.SIGKILL)  # what a stopping service does
            assert _ended(job) == -signal.SIGKILL
        again = workers.start(["--help"], {}, tmp_path / "help.log")
        assert _ended(again) == 0 and again.pid not in (bad.pid, job.pid)
        assert workers.workers == [worker] and worker.alive()  # the same worker, imports done once
    finally:
        workers.close()
    assert not (tmp_path / "result.json").exists()


def test_a_job_dies_with_its_worker_and_reads_as_killed(tmp_path):
    argv = _held_job(tmp_path)
    workers = Workers(1, tool_env())
    try:
        with open(tmp_path / "gradebooks" / LOCK, "a") as lock:  # the job waits for the registration's lock
            fcntl.flock(lock, fcntl.LOCK_EX)
            job = workers.start(argv, {}, tmp_path / "job.log")
            time.sleep(2)
            assert job.poll() is None
            (worker,) = workers.workers
            worker.process.kill()
            worker.process.wait()
            assert job.poll() == -signal.SIGKILL
            deadline = time.monotonic() + 10
            while _running(job.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _running(job.pid)  # killed with its worker (PR_SET_PDEATHSIG), not left grading
        again = workers.start(["--help"], {}, tmp_path / "b.log")
        assert _ended(again) == 0 and workers.workers[0] is not worker
    finally:
        workers.close()
    assert not (tmp_path / "result.json").exists()


def _running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False
