"""Grading a class on a Dask cluster: one task per student, no shared filesystem.

``movierec autograde ASSIGNMENT --scheduler ADDRESS`` sends every student's submission to an
existing Dask cluster (``dask scheduler`` and ``dask worker`` on any machines, Slurm through
dask-jobqueue, Kubernetes, Dask Gateway) or, with ``--scheduler local:N``, to N local worker
processes. The run is the same :class:`~movierec_instructor.grading.class_run.ClassRun` as ``--jobs``
(same preparation, same report tail); only the grading of each student happens on a worker
(:func:`movierec_instructor.grading.cluster_worker.grade_student`).

What a cluster does to a run, and what the run does about it:

- **A worker lost mid-task.** The scheduler runs the task again on another worker. The course
  bundle every task needs is itself a task (not scattered data), so the scheduler recomputes it
  when the only worker holding it is lost; scattered data would be gone, and every task that
  depends on it cancelled ("already forgotten"). Workers announce each student they start on
  the scheduler's event log, so the report names every retry and the worker that was lost.
- **The client's connection dropped.** Dask cancels the client's futures and reconnects; the
  students not yet merged are submitted again, once; results already merged are kept.
- **The scheduler restarted or gone.** A restart is reported and the students not yet graded
  are submitted again; a scheduler that does not come back within the reconnect window (or has
  no worker left) leaves those students ``NOT GRADED`` with the reason and the command to re-run.
- **Exactly once.** :class:`~movierec_instructor.grading.class_run.MergeOnce` refuses a second result
  for a student already merged in this run.

Timeouts come from the grading limits (:class:`Timeouts`), not Dask's defaults.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path

from movierec_instructor.grading.class_run import ClassRun, MergeOnce
from movierec_instructor.grading.cluster_worker import (
    WorkerCannotGrade,
    bundle_bytes,
    course_bundle,
    environment,
    events_topic,
    grade_student,
)
from movierec_instructor.grading.submissions import Finding
from movierec_instructor.integrity.untrusted import path_inside

__all__ = ["Timeouts", "WorkerCannotGrade", "autograde_on_cluster"]

RESUBMISSIONS = 1  # times a student is submitted again after the connection to the scheduler is lost


@dataclass(frozen=True)
class Timeouts:
    """Dask's timeouts for a grading run, from the course's per-cell limit (nbgrader's cell timeout).

    ``reconnect``: how long the run waits for a lost scheduler (and for a worker, when none is
    left) before it reports the students not yet graded; one cell's limit, since a loaded node
    may stall that long without anything being wrong. ``tcp``: how long a silent connection is
    kept; a third of a cell's limit and never under Dask's 30 s, since a starved 2-core node
    starting TensorFlow kernels answers slowly. ``worker_ttl``: how long the scheduler keeps a
    worker whose heartbeats stopped (two cells' limits). ``allowed_failures``: a task that
    killed its worker is run once more elsewhere, then reported.
    """

    reconnect: float
    tcp: float
    worker_ttl: float
    allowed_failures: int = 1

    @classmethod
    def from_cell_timeout(cls, cell_seconds: float) -> Timeouts:
        return cls(
            reconnect=cell_seconds, tcp=max(30.0, cell_seconds / 3), worker_ttl=max(300.0, 2 * cell_seconds)
        )

    @classmethod
    def for_course(cls, course: Path) -> Timeouts:
        """From ``ExecutePreprocessor.timeout`` in the course's ``nbgrader_config.py`` (180 s when unset)."""
        from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
            cell = float(config.ExecutePreprocessor.get("timeout") or 180)
        except ConfigFileNotFound:
            cell = 180.0
        return cls.from_cell_timeout(cell)

    def dask_config(self) -> dict:
        return {
            "distributed.comm.timeouts.connect": f"{self.reconnect}s",
            "distributed.comm.timeouts.tcp": f"{self.tcp}s",
            "distributed.scheduler.worker-ttl": f"{self.worker_ttl}s",
            "distributed.scheduler.allowed-failures": self.allowed_failures,
        }


def _client(scheduler: str, timeouts: Timeouts):
    from distributed import Client, LocalCluster

    if scheduler.startswith("local:"):
        workers = int(scheduler.split(":", 1)[1])
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        return Client(cluster, timeout=timeouts.reconnect), cluster
    return Client(scheduler, timeout=timeouts.reconnect), None


class _Grading:
    """The client's side of one class run on a cluster: submit, collect, merge once, resubmit."""

    def __init__(
        self,
        client,
        run: ClassRun,
        progress: Callable[[int, int, int, int], None] | None,
        timeouts: Timeouts,
        scheduler: str,
    ) -> None:
        self.client, self.run, self.progress, self.timeouts = client, run, progress, timeouts
        self.scheduler = scheduler
        self.merge = MergeOnce(run.db, run.assignment)
        self.bundle = course_bundle(run.course, run.assignment)
        self.environment = environment()
        self.scheduler_id = client.scheduler_info().get("id")
        self.run_id = uuid.uuid4().hex[:12]  # this run's event topic and task keys
        self.findings: list[Finding] = []
        self.resubmitted: dict[str, str] = {}  # student -> why it was submitted again
        self.failed = 0

    def submit(self, students: list[str], attempt: int) -> dict:
        """One task per student, all depending on one bundle task; keys name the run and the attempt."""
        assignment, tag = self.run.assignment, f"{self.run_id}-{attempt}"
        bundle = self.client.submit(
            bundle_bytes, self.bundle, key=f"movierec-bundle-{assignment}-{tag}", pure=False
        )
        futures = {}
        for student in students:
            folder = self.run.course / "submitted" / student / assignment
            files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
            future = self.client.submit(
                grade_student,
                bundle,
                assignment,
                student,
                files,
                self.run.sandbox,
                self.environment,
                self.run_id,
                key=f"movierec-grade-{assignment}-{student}-{tag}",
                pure=False,
            )
            futures[future] = student
        return futures

    def grade(self) -> list[Finding]:
        pending = list(self.run.students)
        for attempt in range(RESUBMISSIONS + 1):
            lost = self.collect(self.submit(pending, attempt)) if pending else []
            pending = [s for s in pending if s in lost]
            if not pending:
                return self.findings + self.retries()
            why = self.reconnected()
            if why:
                return self.findings + self.give_up(pending, why) + self.retries()
            if attempt == RESUBMISSIONS:
                break
            for student in pending:
                self.resubmitted[student] = self.resubmit_reason()
        return (
            self.findings
            + self.give_up(
                pending,
                f"the connection to the scheduler was lost again after {RESUBMISSIONS} resubmission(s)",
            )
            + self.retries()
        )

    def collect(self, futures: dict) -> list[str]:
        """Waits for every task; merges results; returns the students whose task the connection loss took."""
        from distributed import wait

        waiting, lost, idle_since = set(futures), [], None
        while waiting:
            try:
                wait(list(waiting), timeout=2, return_when="FIRST_COMPLETED")
            except CancelledError:
                pass  # cancelled futures are done: finish() takes them as lost with the connection
            except TimeoutError:
                idle_since = self.check_health(idle_since)
                if idle_since == -1:
                    lost += [futures[f] for f in waiting]
                    break
                continue
            for future in [f for f in waiting if f.done()]:
                waiting.discard(future)
                if self.finish(futures[future], future):
                    lost.append(futures[future])
        return lost

    def check_health(self, idle_since: float | None) -> float | None:
        """-1 when the connection is gone or no worker has been there for the reconnect window."""
        if self.client.status != "running":
            return -1
        if self.client.scheduler_info().get("workers"):
            return None
        idle_since = idle_since or time.monotonic()
        return -1 if time.monotonic() - idle_since > self.timeouts.reconnect else idle_since

    def finish(self, student: str, future) -> bool:
        """Merges or reports one student's task; True when the task was lost with the connection."""
        try:
            result = future.result()
        except CancelledError:
            return True
        except Exception as exc:  # noqa: BLE001 - a worker's refusal or a task that killed workers: this student only
            self.failed += 1
            self.findings += self.run.not_graded(
                [student],
                f"not graded on the cluster: {_plain(exc)}",
                "the submission is left as handed in; grade again",
            )
        else:
            self.merge_result(student, result)
        if self.progress:
            self.progress(
                len(self.merge.merged),
                self.failed,
                len(self.resubmitted) + len(self._started_twice()),
                len(self.run.students),
            )
        return False

    def merge_result(self, student: str, result: dict) -> None:
        import tempfile

        assignment = self.run.assignment
        if not result["autograded"]:
            self.failed += 1
            self.findings += self.run.not_graded(
                [student],
                f"nbgrader could not grade the submission on worker {result['worker']} ({result['reason']})",
                "grade this student again with --jobs 1",
            )
            return
        target = self.run.course / "autograded" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        for name, data in result["autograded"].items():
            path_inside(target, name).write_bytes(data)
        with tempfile.TemporaryDirectory() as tmp:
            worker_db = Path(tmp) / "gradebook.db"
            worker_db.write_bytes(result["gradebook"])
            self.merge.merge(student, f"sqlite:///{worker_db}")

    def reconnected(self) -> str | None:
        """Waits for the client to reconnect; None when it did (and a worker is there), else why not."""
        deadline = time.monotonic() + self.timeouts.reconnect
        while self.client.status == "connecting" and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.client.status != "running":
            return (
                f"the scheduler {self.scheduler} could not be reached for {self.timeouts.reconnect:g} s "
                "(gone or restarting)"
            )
        try:
            self.client.wait_for_workers(1, timeout=self.timeouts.reconnect)
        except TimeoutError:
            return f"the scheduler {self.scheduler} has had no worker for {self.timeouts.reconnect:g} s"
        return None

    def resubmit_reason(self) -> str:
        restarted = self.client.scheduler_info().get("id") != self.scheduler_id
        return (
            "the scheduler restarted during the run"
            if restarted
            else "the connection to the scheduler was lost and restored"
        )

    def give_up(self, students: list[str], why: str) -> list[Finding]:
        again = " ".join(f"--student {s}" for s in students)
        return self.run.not_graded(
            students,
            f"not graded on the cluster: {why}",
            f"the submission is left as handed in; re-run: movierec autograde "
            f"{self.run.assignment} --scheduler {self.scheduler} {again}",
        )

    def _started_twice(self) -> dict[str, list[str]]:
        starts: dict[str, list[str]] = {}
        if self.client.status != "running":
            return {}
        try:
            events = self.client.get_events(events_topic(self.run.assignment, self.run_id))
        except Exception:  # noqa: BLE001 - the event log is for the report; the grades do not depend on it
            return {}
        for _when, message in events:
            starts.setdefault(message.get("student"), []).append(
                str(message.get("name", message.get("worker")))
            )
        return {s: w for s, w in starts.items() if len(w) > 1 and s not in self.resubmitted}

    def retries(self) -> list[Finding]:
        """Report lines for students graded after a retry, with the reason."""
        found = [
            Finding(s, self.run.assignment, f"submitted again: {why}", "graded once, by the new task")
            for s, why in sorted(self.resubmitted.items())
            if s in self.merge.merged
        ]
        for student, workers in sorted(self._started_twice().items()):
            found.append(
                Finding(
                    student,
                    self.run.assignment,
                    f"retried: worker {workers[0]} was lost while grading; graded on {workers[-1]}",
                    "graded once, by the retry",
                )
            )
        return found


def _plain(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return "its task was running on every worker that died during it; the submission may crash workers"
    return str(exc)


def autograde_on_cluster(
    course: Path,
    assignment: str,
    scheduler: str,
    *,
    sandbox: bool = True,
    release: Path | None = None,
    db: str | None = None,
    only: list[str] | None = None,
    progress: Callable[[int, int, int, int], None] | None = None,
    timeouts: Timeouts | None = None,
) -> list[Finding]:
    """Grades ``assignment`` on a Dask cluster; the same report as :func:`autograde.autograde`.

    Args:
        course: the course directory.
        assignment: the assignment id.
        scheduler: a Dask scheduler address (``tcp://host:8786``), a scheduler file's path,
            or ``local:N`` for N local worker processes.
        sandbox: grade in the sandbox (workers that cannot make one refuse their tasks).
        release: the student release (default ``course/notebooks``).
        db: the course's gradebook URL.
        only: grade just these students.
        progress: called with (graded, failed, retried, total) after each student.
        timeouts: Dask's timeouts (default: :meth:`Timeouts.for_course`).

    Returns:
        The findings; students nobody could grade have actions starting with ``NOT GRADED``.
    """
    import dask

    run = ClassRun.plan(course, assignment, release=release, db=db, sandbox=sandbox, only=only)
    findings = run.prepare()
    timeouts = timeouts or Timeouts.for_course(run.course)
    with dask.config.set(timeouts.dask_config()):
        client, cluster = _client(scheduler, timeouts)
        try:
            findings += _Grading(client, run, progress, timeouts, scheduler).grade()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return findings + run.finish()
