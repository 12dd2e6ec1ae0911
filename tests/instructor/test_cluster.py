"""Grading on a Dask cluster (issue #25), everything on loopback.

A scheduler and two workers run as separate processes, each worker in a folder of its own
(no shared course folder: tasks carry bytes). The class is the planted one of
test_grading_insights (six students, tiny notebooks).
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from movierec_instructor.cli import main
from movierec_instructor.nbgrader_runner import run_nbgrader

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"
ASSIGNMENT = "planted"
SETUP = "from movierec_helpers.exercises import PartialCredit"
SOLUTION = '''def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION'''
TESTS = '''checks = PartialCredit(points=2)
with checks.check(1, "doubles"):
    assert double(3) == 6, "double(3) is 6"
with checks.check(1, "doubles negatives"):
    assert double(-3) == -6, "double(-3) is -6"
checks.score'''
ANSWERS = {"right": "2 * x", "abs": "abs(2 * x)", "plus": "x + 2", "slow": "__import__('time').sleep(4) or 2 * x"}
CLASS = {"s1": "right", "s2": "abs", "s3": "plus", "s4": "right", "s5": "slow", "s6": "slow"}
EXPECTED = {"s1": 2.0, "s2": 1.0, "s3": 0.0, "s4": 2.0, "s5": 2.0, "s6": 2.0}
pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def _notebook(body=None):
    cells = []
    for grade_id, source, points in (("setup", SETUP, None), ("answers", SOLUTION, None), ("tests", TESTS, 2)):
        if grade_id == "answers" and body is not None:
            source = f"def double(x):\n    return {body}"
        cell = new_code_cell(source)
        meta = {"schema_version": 3, "grade_id": grade_id, "locked": grade_id != "answers",
                "solution": grade_id == "answers", "grade": points is not None}
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "movierec", "display_name": "Python 3 (movierec)", "language": "python"}
    return nb


def _course(path: Path) -> Path:
    (path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(_notebook(), path / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (path / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    run_nbgrader(path, "generate_assignment", ASSIGNMENT, "--force",
                 f"--CourseDirectory.release_directory={path / 'notebooks'}", db=f"sqlite:///{path / 'gradebook.db'}")
    for student, kind in CLASS.items():
        target = path / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(_notebook(ANSWERS[kind]), target)
    return path


def _scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        subs = gb.assignment_submissions(ASSIGNMENT)
        return {s.student_id: s.score for s in subs}


class Cluster:
    """A scheduler and workers as separate processes, each in its own folder."""

    def __init__(self, folder: Path, workers: int, worker_env: dict | None = None) -> None:
        self.folder, self.procs = folder, []
        self.file = folder / "scheduler.json"
        self.procs.append(subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(self.file)], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.time() + 60
        while not self.file.exists() and time.time() < deadline:
            time.sleep(0.2)
        self.workers = [self.start_worker(i, worker_env) for i in range(workers)]

    def start_worker(self, i: int, env: dict | None = None) -> subprocess.Popen:
        home = self.folder / f"worker{i}"
        home.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [str(DASK), "worker", "--scheduler-file", str(self.file), "--nworkers", "1", "--nthreads", "1",
             "--no-dashboard", "--local-directory", str(home), "--name", f"w{i}"],
            cwd=home, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
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


def test_two_workers_grade_exactly_as_one_local_job(tmp_path):
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 2)
    try:
        dask_cluster.wait_for(2)
        distributed_course = _course(tmp_path / "on_cluster")
        assert main(["--course", str(distributed_course), "autograde", ASSIGNMENT,
                     "--scheduler", dask_cluster.address()]) == 0
    finally:
        dask_cluster.close()
    local_course = _course(tmp_path / "local")
    assert main(["--course", str(local_course), "autograde", ASSIGNMENT, "--jobs", "1"]) == 0
    assert _scores(distributed_course) == _scores(local_course) == EXPECTED
    report = lambda c: sorted(map(tuple, csv.reader(open(c / f"grading-report-{ASSIGNMENT}.csv"))))  # noqa: E731
    assert report(distributed_course) == report(local_course)
    for student in CLASS:
        assert (distributed_course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    workers_folders = list((tmp_path / "cluster").glob("worker*"))
    assert len(workers_folders) == 2 and not any((w / "submitted").exists() for w in workers_folders)


def test_a_worker_killed_while_grading_loses_nobody_and_doubles_nobody(tmp_path):
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 2)
    course = _course(tmp_path / "course")
    try:
        dask_cluster.wait_for(2)
        grading = subprocess.Popen([sys.executable, "-m", "movierec_instructor.cli", "--course", str(course),
                                    "autograde", ASSIGNMENT, "--scheduler", dask_cluster.address()],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        from distributed import Client

        with Client(dask_cluster.address(), timeout=60) as watcher:
            deadline, busy = time.time() + 300, []
            while not busy and time.time() < deadline:  # wait until worker w0 is grading someone
                info = watcher.scheduler_info()["workers"]
                processing = watcher.processing()
                busy = [a for a, w in info.items() if w.get("name") == "w0" and processing.get(a)]
                time.sleep(0.2)
            assert busy, "worker w0 never got a task"
            time.sleep(2)  # inside the grading of that student
            os.killpg(dask_cluster.workers[0].pid, signal.SIGKILL)
        out, _ = grading.communicate(timeout=600)
        assert grading.returncode == 0, out
    finally:
        dask_cluster.close()
    assert _scores(course) == EXPECTED, "every student graded exactly once, with the exact score"


def test_a_worker_without_a_sandbox_refuses_and_grades_nobody_differently(tmp_path, capsys):
    (tmp_path / "cluster").mkdir()
    dask_cluster = Cluster(tmp_path / "cluster", 1, worker_env={"MOVIEREC_BWRAP": "/bin/false"})
    course = _course(tmp_path / "course")
    try:
        dask_cluster.wait_for(1)
        assert main(["--course", str(course), "autograde", ASSIGNMENT, "--scheduler", dask_cluster.address()]) == 1
    finally:
        dask_cluster.close()
    assert _scores(course) == {}, "nothing graded without the sandbox"
    rows = list(csv.DictReader(open(course / f"grading-report-{ASSIGNMENT}.csv")))
    assert {r["student"] for r in rows if r["action"].startswith("NOT GRADED")} == set(CLASS)
    assert all("cannot make the grading sandbox" in r["problem"] for r in rows if r["student"] in CLASS)
    for student, kind in CLASS.items():
        kept = nbformat.read(course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        assert kept.cells[1].source == f"def double(x):\n    return {ANSWERS[kind]}", "the submission stays as handed in"
