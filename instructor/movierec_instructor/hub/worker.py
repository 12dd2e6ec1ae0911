"""Long-lived grading workers: nbgrader and the job's code imported once, each job in a fork.

A job started as ``python -m movierec_instructor.hub.job`` spends about 1.5 s of CPU importing
nbgrader and the course's grading code before it grades anything, and each nbgrader command
it runs as many again. The service instead keeps one worker process per grading slot
(``python -m movierec_instructor.hub.worker``) that has imported all of it once; for each job
the worker forks, and the fork (its own process group, killed with its worker)
runs :func:`movierec_instructor.hub.job.main` with the job's arguments and environment, its
output in the job's log. nbgrader's commands then run in forks of the job
(:func:`~movierec_instructor.grading.nbgrader_runner.preload`). Nothing is shared between
jobs but the imported code: each job is a new process, as before.

The worker talks to the service in JSON lines: it reads ``{"argv", "env", "log"}`` and answers
``{"started": pid}`` at once and ``{"ended": pid, "status": code}`` when the job exits.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

READY = "ready"


def die_with_parent() -> None:
    """Asks Linux to kill this process when its parent dies (no orphan grades after the service)."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def _run_job(argv: list[str], env: Mapping[str, str], log: str) -> None:
    """In the forked child: becomes one grading job and exits with its status."""
    status = 1
    try:
        os.setpgid(0, 0)  # its own process group (the worker sets it too, whichever runs first)
        die_with_parent()
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(descriptor, 1)
        os.dup2(descriptor, 2)
        os.environ.update(env)
        from movierec_instructor.hub import job

        status = job.main(argv)
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - the job's log says why; the service retries the job
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def serve(requests=None, answers=None) -> None:
    """The worker's loop: one job at a time, each in a fork, until its input ends."""
    from movierec_instructor.grading.nbgrader_runner import preload
    from movierec_instructor.hub import job  # noqa: F401 - imported once here, for every fork

    requests = requests or sys.stdin
    answers = answers or sys.stdout
    die_with_parent()
    preload()
    answers.write(json.dumps(READY) + "\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        answers.flush()
        pid = os.fork()
        if pid == 0:
            _run_job(request["argv"], request.get("env", {}), request["log"])
        try:  # before the service hears of it, so that it can always kill the group
            os.setpgid(pid, pid)
        except OSError:  # it has set it itself, or ended already
            pass
        answers.write(json.dumps({"started": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"ended": pid, "status": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


class RunningJob:
    """One job running in a worker; answers ``pid``, ``poll()`` and ``returncode`` as a Popen does."""

    def __init__(self, worker: Worker, pid: int) -> None:
        self.worker, self.pid = worker, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The job's exit status, or None while it runs (a dead worker's job died with it)."""
        if self.returncode is None:
            self.returncode = self.worker.ended(self.pid)
        return self.returncode


class Worker:
    """One worker process, started with the service's environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "movierec_instructor.hub.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env),
            text=True,
            bufsize=1,
        )
        self.job: RunningJob | None = None
        self.ready = False
        self.buffer = ""

    def alive(self) -> bool:
        """Whether the worker process still runs."""
        return self.process.poll() is None

    def _answers(self, block: bool) -> list:
        os.set_blocking(self.process.stdout.fileno(), block)
        try:
            chunk = os.read(self.process.stdout.fileno(), 65536)
        except BlockingIOError:
            chunk = b""
        if block and not chunk:
            raise RuntimeError("the grading worker ended")
        self.buffer += chunk.decode()
        *lines, self.buffer = self.buffer.split("\n")
        return [json.loads(line) for line in lines if line.strip()]

    def _wait_for(self, key: str) -> dict | str:
        while True:
            for answer in self._answers(block=True):
                if answer == READY:
                    self.ready = True
                    if key == READY:
                        return answer
                elif isinstance(answer, dict) and key in answer:
                    return answer

    def start(self, argv: list[str], env: Mapping[str, str], log: Path) -> RunningJob:
        """Starts one job in this (idle) worker and returns it as soon as it runs."""
        if not self.ready:
            self._wait_for(READY)
        self.process.stdin.write(json.dumps({"argv": argv, "env": dict(env), "log": str(log)}) + "\n")
        self.process.stdin.flush()
        self.job = RunningJob(self, self._wait_for("started")["started"])
        return self.job

    def ended(self, pid: int) -> int | None:
        """The exit status of job ``pid`` once it ended, else None."""
        if not self.alive():
            self.job = None
            return -signal.SIGKILL
        for answer in self._answers(block=False):
            if isinstance(answer, dict) and answer.get("ended") == pid:
                self.job = None
                return int(answer["status"])
        return None

    def stop(self) -> None:
        """Ends the worker (a job it runs dies with it: see :func:`die_with_parent`)."""
        self.process.kill()
        self.process.wait()


class Workers:
    """``size`` workers; each runs one job at a time."""

    def __init__(self, size: int, env: Mapping[str, str]) -> None:
        self.size, self.env = size, dict(env)
        self.workers: list[Worker] = []

    def start(self, argv: list[str], env: Mapping[str, str], log: Path) -> RunningJob:
        """Runs a job in an idle worker (a new one if none is idle or one died)."""
        self.workers = [w for w in self.workers if w.alive() or w.job is not None]
        idle = next((w for w in self.workers if w.job is None and w.alive()), None)
        if idle is None:
            idle = Worker(self.env)
            self.workers.append(idle)
        try:
            return idle.start(argv, env, log)
        except (OSError, RuntimeError, ValueError):
            idle.stop()
            self.workers.remove(idle)
            raise

    def warm(self) -> None:
        """Starts the workers ahead, so the first jobs find nbgrader imported."""
        while len(self.workers) < self.size:
            self.workers.append(Worker(self.env))

    def close(self) -> None:
        """Ends every worker."""
        for worker in self.workers:
            worker.stop()
        self.workers = []


if __name__ == "__main__":
    serve()
