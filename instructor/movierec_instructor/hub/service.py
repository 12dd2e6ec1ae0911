"""The grading service: ``movierec grade-service``, started by JupyterHub as a managed service.

It watches the exchange's inbound folder (:mod:`~movierec_instructor.hub.watch`), records every
hand-in in its journal (:mod:`~movierec_instructor.hub.queue`), and runs up to ``workers``
grading jobs at once (:mod:`~movierec_instructor.hub.job`, one process group each, forked from a
long-lived worker that imported nbgrader once: :mod:`~movierec_instructor.hub.worker`), the
fairest first, each given a warm kernel (:mod:`~movierec_instructor.hub.warm_pool`) when one is
ready. Assignments released to the exchange are registered at start, not by the first job.
Started by JupyterHub with a URL, it also serves each student a page of where their hand-ins
are (:mod:`~movierec_instructor.hub.status_page`, behind the hub's OAuth).
When hand-ins wait, one job grades up to ``batch`` of them (one assignment, different students,
each published as soon as it is graded). A hand-in whose job ended without a result is graded
alone after that. Killed at any point, it restarts from the journal: jobs left running are
stopped and graded again unless they had published their result; hand-ins a machine fault left
*not graded* are graded again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from movierec_instructor.grading.autograde import threads_per_worker
from movierec_instructor.grading.nbgrader_runner import tool_env
from movierec_instructor.hub import status_page
from movierec_instructor.hub.job import RESULT
from movierec_instructor.hub.queue import Job, Journal
from movierec_instructor.hub.release import course_lock, ensure_assignment, registered_gradebook
from movierec_instructor.hub.warm_pool import WARM_ENV, WarmPool
from movierec_instructor.hub.watch import scan
from movierec_instructor.hub.worker import RunningJob, Workers
from movierec_instructor.integrity.sandbox import check_available

COURSE_IMPORTS = ["numpy", "pandas", "movierec_helpers", "movierec_helpers.exercises", "tensorflow", "keras"]
MAX_ATTEMPTS = 3  # a job that dies without a result is retried this often, then reported not graded


@dataclass
class Settings:
    """What one grading service serves, and how."""

    course: Path
    exchange: Path
    course_id: str
    state: Path | None = None
    workers: int = 2
    pool: int = 2
    batch: int = 4
    preforked: bool = True  # jobs run in long-lived workers that imported nbgrader once
    instructors: list[str] = field(default_factory=list)  # who sees every hand-in on the status page
    imports: list[str] = field(default_factory=lambda: list(COURSE_IMPORTS))
    sandbox: bool = True
    check_owner: bool = True
    poll: float = 1.0
    once: bool = False  # stop when nothing is left to grade (tests, a catch-up run)

    def __post_init__(self) -> None:
        self.course = Path(self.course).resolve()
        self.state = Path(self.state or self.course / "hub-state").resolve()

    @property
    def inbound(self) -> Path:
        """The exchange's folder of hand-ins."""
        return self.exchange / self.course_id / "inbound"

    @property
    def feedback(self) -> Path:
        """The exchange's folder of feedback pages."""
        return self.exchange / self.course_id / "feedback"


def job_folder(settings: Settings, key: str) -> Path:
    """The job's own folder (its private course and ``result.json``)."""
    return settings.state / "jobs" / key


def read_result(settings: Settings, key: str) -> dict | None:
    """The job's ``result.json``, if it wrote one."""
    try:
        return json.loads((job_folder(settings, key) / RESULT).read_text())
    except (OSError, ValueError):
        return None


def stop_group(pgid: int | None) -> None:
    """Kills a job's process group left by a killed service (its nbgrader and kernels)."""
    if pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


def recover(journal: Journal, settings: Settings) -> None:
    """Settles what a killed service left: published jobs are done, the others graded again."""
    for key, pgid, _kernel in journal.interrupted():
        stop_group(pgid)
        result = read_result(settings, key)
        if result and result.get("published"):
            journal.finish(key, "graded", score=result.get("score"))
        else:
            journal.requeue(key, "the service stopped while grading it")
    for key in [k for k, state in journal.states().items() if state == "not_graded"]:
        journal.requeue(key, "graded again after a restart (it was not graded: a machine fault)")


def job_arguments(settings: Settings, jobs: list[Job]) -> list[str]:
    """The command line of one job grading ``jobs`` (one assignment, different students)."""
    folder = job_folder(settings, jobs[0].key)
    argv = [
        "--course", str(settings.course), "--job", str(folder), "--feedback-dir", str(settings.feedback),
        "--assignment", jobs[0].assignment, "--gradebooks", str(settings.state / "gradebooks"),
    ]  # fmt: skip
    for job in jobs:
        argv += ["--hand-in", job.student, str(job.folder), str(job_folder(settings, job.key) / RESULT)]
    if not settings.sandbox:
        argv.append("--no-sandbox")
    return argv


def start_job(settings: Settings, jobs: list[Job], kernel: str | None, workers: Workers | None = None):
    """Starts one job grading ``jobs`` in a process group of its own: in a worker when there are
    workers (:mod:`~movierec_instructor.hub.worker`), else as a new interpreter.

    Returns:
        What answers ``pid``, ``poll()`` and ``returncode`` (a :class:`subprocess.Popen` or a
        :class:`~movierec_instructor.hub.worker.RunningJob`).
    """
    for job in jobs:
        shutil.rmtree(job_folder(settings, job.key), ignore_errors=True)
        job_folder(settings, job.key).mkdir(parents=True)
    folder = job_folder(settings, jobs[0].key)
    argv = job_arguments(settings, jobs)
    extra = {**threads_per_worker(settings.workers), **({WARM_ENV: kernel} if kernel else {})}
    if workers is not None:
        try:
            return workers.start(argv, extra, folder / "job.log")
        except (OSError, RuntimeError, ValueError) as exc:  # a worker that cannot start: grade all the same
            (folder / "job.log").write_text(f"no grading worker ({exc}); the job runs on its own\n")
    with open(folder / "job.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "movierec_instructor.hub.job", *argv],
            env=tool_env(extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def prepare(settings: Settings) -> list[str]:
    """Registers each assignment released to the exchange ahead of its first hand-in; returns them.

    The cached registration every job copies (:func:`~movierec_instructor.hub.release.registered_gradebook`)
    and the assignment in the course gradebook (:func:`~movierec_instructor.hub.release.ensure_assignment`)
    would otherwise be made by the first job, which takes seconds longer. One that fails is left
    to the jobs, which report why.
    """
    outbound = settings.exchange / settings.course_id / "outbound"
    released = sorted(p.name for p in outbound.glob("*") if (settings.course / "solutions" / p.name).is_dir())
    done = []
    for assignment in released:
        try:
            registered_gradebook(settings.course, assignment, settings.state / "gradebooks")
            with course_lock(settings.course):
                ensure_assignment(settings.course, assignment)
            done.append(assignment)
        except Exception as exc:  # noqa: BLE001 - the first job registers it and reports a failure
            print(f"could not register {assignment} ahead: {exc}", file=sys.stderr)
    return done


def take_batch(journal: Journal, size: int) -> list[Job]:
    """The next job's hand-ins: the fairest one, then others of its assignment, first tries only."""
    first = journal.next()
    if first is None:
        return []
    batch = [first]
    while first.attempts == 1 and len(batch) < size:
        more = journal.next(assignment=first.assignment, first_try=True)
        if more is None:
            break
        batch.append(more)
    return batch


def settle(journal: Journal, settings: Settings, job: Job, status: int) -> None:
    """Records a finished job's outcome; a job that died without a result is retried."""
    result = read_result(settings, job.key)
    if result and result.get("published"):
        journal.finish(job.key, "graded", score=result.get("score"))
    elif result:
        journal.finish(job.key, "not_graded", result.get("reason", ""))
    elif job.attempts < MAX_ATTEMPTS:
        journal.requeue(job.key, f"the grading job ended with status {status} and no result")
    else:
        journal.finish(
            job.key, "not_graded", f"the grading job failed {job.attempts} times (status {status})"
        )


class Service:
    """One grading service: the journal, the pool, the running jobs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.state.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(settings.state / "pool", ignore_errors=True)  # a killed service's kernels died with it
        self.journal = Journal(settings.state / "journal.sqlite")
        self.pool = WarmPool(settings.state / "pool", settings.pool, settings.imports, settings.sandbox)
        self.workers = Workers(settings.workers, tool_env()) if settings.preforked else None
        self.running: list[tuple[list[Job], RunningJob | subprocess.Popen, str | None]] = []

    def step(self) -> None:
        """One round: record new hand-ins, start jobs, settle finished ones, warm a kernel."""
        found, refused = scan(self.settings.inbound, self.settings.check_owner)
        for submission in found:
            self.journal.add(submission)
        for key, why in refused:
            self.journal.refuse(key, why)
        for entry in list(self.running):
            jobs, process, kernel = entry
            if process.poll() is not None:
                self.pool.discard(kernel)
                self.running.remove(entry)
                for job in jobs:
                    settle(self.journal, self.settings, job, process.returncode)
        while (free := self.settings.workers - len(self.running)) > 0:
            # Spread what waits over the free workers first; batch only what they cannot take.
            size = min(max(1, self.settings.batch), -(-self.journal.waiting() // free))
            jobs = take_batch(self.journal, max(1, size))
            if not jobs:
                break
            kernel = self.pool.claim()
            process = start_job(self.settings, jobs, kernel, self.workers)
            for job in jobs:
                self.journal.running(job.key, process.pid, kernel)
            self.running.append((jobs, process, kernel))
        self.pool.fill()

    def serve(self) -> None:
        """Grades until stopped (or, with ``once``, until nothing is left)."""
        recover(self.journal, self.settings)
        status_page.start(self.settings.state / "journal.sqlite", set(self.settings.instructors))
        if self.workers is not None:
            self.workers.warm()
        prepare(self.settings)
        self.pool.fill(wait=True)
        try:
            while True:
                self.step()
                if self.settings.once and not self.running and not self.journal.pending():
                    return
                time.sleep(self.settings.poll)
        finally:
            for _jobs, process, _kernel in self.running:
                stop_group(process.pid)
            self.pool.close()
            if self.workers is not None:
                self.workers.close()
            self.journal.close()


def serve(settings: Settings) -> None:
    """Checks the sandbox, then runs the service (:class:`Service`).

    Raises:
        movierec_instructor.integrity.sandbox.SandboxUnavailable: no sandbox here and ``sandbox`` is set.
    """
    if settings.sandbox:
        check_available()
    Service(settings).serve()


def add_arguments(parser) -> None:
    """The options of ``movierec grade-service``."""
    parser.add_argument("--exchange", type=Path, default=Path("/srv/nbgrader/exchange"), help="Exchange.root")
    parser.add_argument("--course-id", required=True, help="CourseDirectory.course_id of the exchange")
    parser.add_argument(
        "--state", type=Path, default=None, help="journal and jobs (default COURSE/hub-state)"
    )
    parser.add_argument("--workers", type=int, default=2, help="hand-ins graded at once")
    parser.add_argument("--pool", type=int, default=2, help="warm kernels kept ready")
    parser.add_argument(
        "--batch", type=int, default=4, help="waiting hand-ins one job grades together (1: one per job)"
    )
    parser.add_argument(
        "--imports", default=",".join(COURSE_IMPORTS), help="modules a warm kernel imports (comma-separated)"
    )
    parser.add_argument(
        "--fresh-jobs", action="store_true", help="each job a new interpreter (no long-lived workers)"
    )
    parser.add_argument(
        "--instructors", default="", help="hub users who see every hand-in on the status page (a,b,...)"
    )
    parser.add_argument("--no-sandbox", action="store_true", help="grade without the OS sandbox")
    parser.add_argument(
        "--no-owner-check", action="store_true", help="accept hand-ins not owned by the student named"
    )
    parser.add_argument("--once", action="store_true", help="stop when nothing is left to grade")


def settings_from(course: Path, args) -> Settings:
    """The service's settings from the command line."""
    return Settings(
        course=course,
        exchange=args.exchange.resolve(),
        course_id=args.course_id,
        state=args.state,
        workers=args.workers,
        pool=args.pool,
        batch=args.batch,
        imports=[m for m in args.imports.split(",") if m],
        sandbox=not args.no_sandbox,
        preforked=not args.fresh_jobs,
        instructors=[name for name in args.instructors.split(",") if name],
        check_owner=not args.no_owner_check,
        once=args.once,
    )
