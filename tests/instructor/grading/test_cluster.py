"""Grading on a Dask cluster (issues #25, #39), everything on loopback.

A scheduler and two workers run as separate processes, each worker in a folder of its own
(no shared course folder: tasks carry bytes). The class is the planted one of
test_grading_insights (six students, tiny notebooks).
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from movierec_instructor.cli import main
from movierec_instructor.grading.class_run import DoubleGrade, MergeOnce
from movierec_instructor.grading.cluster import Timeouts, autograde_on_cluster
from tests.toy_course import hand_in, toy_course

ROOT = Path(__file__).resolve().parents[3]
DASK = Path(sys.executable).parent / "dask"
ASSIGNMENT = "planted"
SETUP = "from movierec_helpers.exercises import PartialCredit"
SOLUTION = """def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION"""
TESTS = """checks = PartialCredit(points=2)
with checks.check(1, "doubles"):
    assert double(3) == 6, "double(3) is 6"
with checks.check(1, "doubles negatives"):
    assert double(-3) == -6, "double(-3) is -6"
checks.score"""
ANSWERS = {
    "right": "2 * x",
    "abs": "abs(2 * x)",
    "plus": "x + 2",
    "slow": "__import__('time').sleep(4) or 2 * x",
}
CLASS = {"s1": "right", "s2": "abs", "s3": "plus", "s4": "right", "s5": "slow", "s6": "slow"}
EXPECTED = {"s1": 2.0, "s2": 1.0, "s3": 0.0, "s4": 2.0, "s5": 2.0, "s6": 2.0}
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def _notebook(body=None):
    cells = []
    for grade_id, source, points in (
        ("setup", SETUP, None),
        ("answers", SOLUTION, None),
        ("tests", TESTS, 2),
    ):
        if grade_id == "answers" and body is not None:
            source = f"def double(x):\n    return {body}"
        cell = new_code_cell(source)
        meta = {
            "schema_version": 3,
            "grade_id": grade_id,
            "locked": grade_id != "answers",
            "solution": grade_id == "answers",
            "grade": points is not None,
        }
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "movierec",
        "display_name": "Python 3 (movierec)",
        "language": "python",
    }
    return nb


def _course(path: Path) -> Path:
    toy_course(path, ASSIGNMENT, _notebook())
    hand_in(path, ASSIGNMENT, {student: _notebook(ANSWERS[kind]) for student, kind in CLASS.items()})
    return path


def _scores(course: Path) -> dict[str, float]:
    return _scores_in(f"sqlite:///{course / 'gradebook.db'}")


def _scores_in(url: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        subs = gb.assignment_submissions(ASSIGNMENT)
        return {s.student_id: s.score for s in subs}


class Cluster:
    """A scheduler and workers as separate processes, each in its own folder."""

    def __init__(self, folder: Path, workers: int, worker_env: dict | None = None) -> None:
        self.folder, self.procs = folder, []
        self.file = folder / "scheduler.json"
        self.procs.append(
            subprocess.Popen(
                [
                    str(DASK),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(self.file),
                ],
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        deadline = time.time() + 60
        while not self.file.exists() and time.time() < deadline:
            time.sleep(0.2)
        self.workers = [self.start_worker(i, worker_env) for i in range(workers)]

    def start_worker(self, i: int, env: dict | None = None) -> subprocess.Popen:
        home = self.folder / f"worker{i}"
        home.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [
                str(DASK),
                "worker",
                "--scheduler-file",
                str(self.file),
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(home),
                "--name",
                f"w{i}",
            ],
            cwd=home,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def address(self) -> str:
        return json.loads(self.file.read_text())["address"]

    def wait_for(self, n: int) -> None:
        from distributed import Client

        with Client(self.address(), timeout=60) as client:
            client.wait_for_workers(n, timeout=120)

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM) if proc in self.workers else proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _report(course: Path) -> list[tuple]:
    return sorted(map(tuple, csv.reader(open(course / f"grading-report-{ASSIGNMENT}.csv"))))


def test_two_workers_grade_exactly_as_one_local_job(tmp_path):
    """One grading path: the same flags (a regrade of three, an unknown id) give the same report on both."""
    flags = ["--student", "s1", "--student", "s2", "--student", "s3", "--student", "nobody"]
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 2)
    try:
        dask_cluster.wait_for(2)
        distributed_course = _course(tmp_path / "on_cluster")
        for _ in range(
            2
        ):  # the scheduler keeps its events: a second run must not read the first's as retries
            on_cluster = main(
                [
                    "--course",
                    str(distributed_course),
                    "autograde",
                    ASSIGNMENT,
                    "--scheduler",
                    dask_cluster.address(),
                    *flags,
                ]
            )
    finally:
        dask_cluster.close()
    local_course = _course(tmp_path / "local")
    assert (
        main(["--course", str(local_course), "autograde", ASSIGNMENT, "--jobs", "1", *flags])
        == on_cluster
        == 1
    )
    wanted = {s: EXPECTED[s] for s in ("s1", "s2", "s3")}
    assert _scores(distributed_course) == _scores(local_course) == wanted
    assert _report(distributed_course) == _report(local_course)
    assert any(row[0] == "nobody" and "names no submission" in row[2] for row in _report(distributed_course))
    for student in wanted:
        assert (distributed_course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    workers_folders = list((tmp_path / "cluster").glob("worker*"))
    assert len(workers_folders) == 2 and not any((w / "submitted").exists() for w in workers_folders)


LOAD_ROUNDS = int(os.environ.get("MOVIEREC_CLUSTER_LOAD_ROUNDS", "1"))


@pytest.fixture
def busy_machine():
    """Every core kept busy by other processes for the whole test, as on a shared hub node or CI runner."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    yield len(hogs)
    for hog in hogs:
        hog.kill()
        hog.wait()


@pytest.mark.parametrize("round_", range(LOAD_ROUNDS))
def test_a_worker_killed_while_grading_loses_nobody_and_doubles_nobody(tmp_path, busy_machine, round_):
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 2)
    course = _course(tmp_path / "course")
    try:
        dask_cluster.wait_for(2)
        grading = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "movierec_instructor.cli",
                "--course",
                str(course),
                "autograde",
                ASSIGNMENT,
                "--scheduler",
                dask_cluster.address(),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        from distributed import Client

        with Client(dask_cluster.address(), timeout=60) as watcher:
            deadline, started = time.time() + 300, []
            while not started and time.time() < deadline:  # wait until worker w0 has started grading someone
                started = [
                    m
                    for topic, events in watcher.get_events().items()
                    if topic.startswith(f"movierec-grading-{ASSIGNMENT}-")
                    for _, m in events
                    if m.get("name") == "w0"
                ]
                time.sleep(0.2)
            assert started, "worker w0 never started grading"
            time.sleep(1)  # inside the grading of that student
            os.killpg(dask_cluster.workers[0].pid, signal.SIGKILL)
        out, _ = grading.communicate(timeout=900)
        assert grading.returncode == 0, out
    finally:
        dask_cluster.close()
    assert _scores(course) == EXPECTED, "every student graded exactly once, with the exact score"
    retried = [row for row in _report(course) if row[2].startswith("retried: worker w0 was lost")]
    assert len(retried) == 1 and retried[0][3] == "graded once, by the retry", _report(course)


class Proxy:
    """A TCP proxy on loopback in front of the scheduler, whose connections the test can cut."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("tcp://").rsplit(":", 1)
        self.target = (host, int(port))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.server.accept()
            except OSError:
                return
            far = socket.create_connection(self.target)
            self.sockets += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Drops every connection made so far; new ones go through as before."""
        self.cuts += 1
        self._drop()

    def _drop(self) -> None:
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.sockets.clear()

    def close(self) -> None:
        self.server.close()
        self._drop()


@pytest.fixture
def class_on_two_workers(tmp_path):
    """The planted class and a running scheduler with workers w0 and w1; closed afterwards."""
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 2)
    course = _course(tmp_path / "course")
    try:
        dask_cluster.wait_for(2)
        yield dask_cluster, course
    finally:
        dask_cluster.close()


def test_the_connection_to_the_scheduler_lost_and_restored_grades_everyone_once(class_on_two_workers):
    dask_cluster, course = class_on_two_workers
    proxy = Proxy(dask_cluster.address())

    def progress(graded, failed, retried, total):
        if graded == 1 and not proxy.cuts:  # one student merged, the others queued or running
            proxy.cut()

    findings = autograde_on_cluster(
        course,
        ASSIGNMENT,
        proxy.address,
        progress=progress,
        timeouts=Timeouts(reconnect=60, tcp=30, worker_ttl=300),
    )
    proxy.close()
    assert proxy.cuts == 1
    assert _scores(course) == EXPECTED, "every student graded exactly once, with the exact score"
    assert not [f for f in findings if f.action.startswith("NOT GRADED")], findings
    again = {
        f.student
        for f in findings
        if f.problem == "submitted again: the connection to the scheduler was lost and restored"
    }
    assert again and len(again) <= len(CLASS) - 1, findings


def test_a_scheduler_gone_leaves_the_rest_not_graded_with_the_reason(class_on_two_workers):
    dask_cluster, course = class_on_two_workers

    def progress(graded, failed, retried, total):
        if graded == 1 and dask_cluster.procs[0].poll() is None:
            dask_cluster.procs[0].kill()  # the scheduler

    findings = autograde_on_cluster(
        course,
        ASSIGNMENT,
        dask_cluster.address(),
        progress=progress,
        timeouts=Timeouts(reconnect=10, tcp=30, worker_ttl=300),
    )
    graded = _scores(course)
    not_graded = {f.student for f in findings if f.action.startswith("NOT GRADED")}
    assert graded and set(graded) | not_graded == set(CLASS) and not set(graded) & not_graded, findings
    assert all(graded[s] == EXPECTED[s] for s in graded), "what was merged before the loss is kept, exactly"
    for f in findings:
        if f.student in not_graded:
            assert "could not be reached for 10 s" in f.problem and "--scheduler" in f.action, f
    for student in not_graded:
        kept = nbformat.read(
            course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
        )
        assert kept.cells[1].source == f"def double(x):\n    return {ANSWERS[CLASS[student]]}"


def test_the_merge_refuses_a_second_result_for_a_student_in_one_run(tmp_path):
    from nbgrader.api import Gradebook

    worker, main_db = f"sqlite:///{tmp_path / 'worker.db'}", f"sqlite:///{tmp_path / 'main.db'}"
    for url in (worker, main_db):
        with Gradebook(url) as gb:
            gb.add_assignment(ASSIGNMENT)
    with Gradebook(worker) as gb:
        gb.add_student("s1")
        gb.add_submission(ASSIGNMENT, "s1")
    merge = MergeOnce(main_db, ASSIGNMENT)
    merge.merge("s1", worker)
    with pytest.raises(DoubleGrade, match="s1 was already graded in this run"):
        merge.merge("s1", worker)
    assert _scores_in(main_db) == {"s1": 0.0}
    assert MergeOnce(main_db, ASSIGNMENT).merge("s1", worker) is None, "a new run may grade s1 again"


def test_a_worker_without_a_sandbox_refuses_and_grades_nobody_differently(tmp_path, capsys):
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 1, worker_env={"MOVIEREC_BWRAP": "/bin/false"})
    course = _course(tmp_path / "course")
    try:
        dask_cluster.wait_for(1)
        assert (
            main(["--course", str(course), "autograde", ASSIGNMENT, "--scheduler", dask_cluster.address()])
            == 1
        )
    finally:
        dask_cluster.close()
    assert _scores(course) == {}, "nothing graded without the sandbox"
    rows = list(csv.DictReader(open(course / f"grading-report-{ASSIGNMENT}.csv")))
    assert {r["student"] for r in rows if r["action"].startswith("NOT GRADED")} == set(CLASS)
    assert all("cannot make the grading sandbox" in r["problem"] for r in rows if r["student"] in CLASS)
    for student, kind in CLASS.items():
        kept = nbformat.read(
            course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
        )
        assert kept.cells[1].source == f"def double(x):\n    return {ANSWERS[kind]}", (
            "the submission stays as handed in"
        )
