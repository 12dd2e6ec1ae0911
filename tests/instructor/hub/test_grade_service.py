"""The hub's grading service on loopback (issue #37): hand-ins through nbgrader's own exchange.

A toy course is released to an exchange in a temporary folder; three students fetch it,
answer (right, wrong, blank) and hand in with ``nbgrader submit``, as the lab's assignment
list does. The service grades each in the sandbox, the gradebook has their scores, and
``nbgrader fetch_feedback`` brings each student their own feedback. A service killed
mid-grade grades the hand-in again on restart, once.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from movierec_instructor.cli import main
from movierec_instructor.grading.nbgrader_runner import run_nbgrader, tool_env
from movierec_instructor.hub.warm_pool import WARM_MARK
from tests.instructor.grading.test_cluster import _notebook
from tests.toy_course import toy_course

ASSIGNMENT = "planted"
COURSE_ID = "toy"
ANSWERS = {"right": "2 * x", "wrong": "x + 2", "slow": "__import__('time').sleep(8) or 2 * x"}
# Right (or wrong) only in a kernel that knows it is grading, as nbgrader's own kernels do.
GRADING = "__import__('os').environ.get('NBGRADER_EXECUTION') == 'autograde'"
WHEN_GRADED = {"right": f"2 * x if {GRADING} else 0", "wrong": f"x + 2 if {GRADING} else x * 2"}
# Alone since warm kernels died at start beside make test's parallel workers: their IPC socket
# paths under pytest-xdist's deeper folders passed 107 bytes (fixed: test_warm_pool.py). They
# have since passed beside the cluster and grading-infrastructure tests (one run, three
# workers); they stay alone until more runs have shown it.
pytestmark = [pytest.mark.sandbox, pytest.mark.slow, pytest.mark.alone]


def _course(tmp: Path) -> tuple[Path, Path]:
    course, exchange = tmp / "course", tmp / "exchange"
    exchange.mkdir()
    extra = f"\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
    toy_course(course, ASSIGNMENT, _notebook(), config_extra=extra)
    run_nbgrader(course, "release_assignment", ASSIGNMENT, "--force", check=True)
    return course, exchange


def _student_nbgrader(home: Path, exchange: Path, student: str, *args: str) -> None:
    """nbgrader as the student runs it from the assignment list (own folder, own cache)."""
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, ASSIGNMENT, f"--course={COURSE_ID}", f"--student={student}",
         f"--Exchange.root={exchange}", f"--Exchange.cache={home / '.cache'}", "--log-level=ERROR"],
        cwd=home, env=tool_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def _hand_in(tmp: Path, exchange: Path, student: str, answer: str | None) -> Path:
    """Fetches the assignment, answers the exercise (or leaves it blank) and submits."""
    home = tmp / "homes" / student
    home.mkdir(parents=True, exist_ok=True)
    if not (home / ASSIGNMENT).exists():
        _student_nbgrader(home, exchange, student, "fetch_assignment")
    path = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if answer is not None:
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answers")
        cell.source = f"def double(x):\n    return {answer}"
    nbformat.write(nb, path)
    _student_nbgrader(home, exchange, student, "submit")
    return home


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_service_left_behind():
    """A failed test kills its services (they would grade on, taking the cores of the tests after it)."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def _service(course: Path, exchange: Path, *extra: str) -> subprocess.Popen:
    _STARTED.append(_popen_service(course, exchange, *extra))
    return _STARTED[-1]


def _popen_service(course: Path, exchange: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "movierec_instructor.cli", "--course", str(course), "grade-service",
         f"--exchange={exchange}", f"--course-id={COURSE_ID}", "--no-owner-check", "--once",
         "--workers=2", "--pool=2", "--imports=movierec_helpers.exercises", *extra],
        env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def _feedback(home: Path, exchange: Path, student: str) -> str:
    _student_nbgrader(home, exchange, student, "fetch_feedback")
    pages = sorted((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


def _journal(course: Path) -> sqlite3.Connection:
    return sqlite3.connect(course / "hub-state" / "journal.sqlite")


def test_hand_ins_are_graded_and_each_student_fetches_their_own_feedback(tmp_path):
    course, exchange = _course(tmp_path)
    homes = {
        "s1": _hand_in(tmp_path, exchange, "s1", WHEN_GRADED["right"]),
        "s2": _hand_in(tmp_path, exchange, "s2", WHEN_GRADED["wrong"]),
        "s3": _hand_in(tmp_path, exchange, "s3", None),
    }
    service = _service(course, exchange)
    out, _ = service.communicate(timeout=900)
    assert service.returncode == 0, out
    assert _scores(course) == {"s1": 2.0, "s2": 0.0, "s3": 0.0}
    # Each job grades its students one by one, each in a private course named after the student.
    jobs = (course / "hub-state" / "jobs").iterdir()
    together = [sorted(p.name for p in (job / "courses").glob("*") if (p / "submitted" / p.name).is_dir())
                for job in jobs]  # fmt: skip
    together = sorted(t for t in together if t)
    assert sorted(map(len, together)) == [1, 2], together  # 3 waiting, 2 workers: one job grades two
    warm = [(course / "autograded" / s / ASSIGNMENT / WARM_MARK).exists() for s in homes]
    assert warm.count(True) >= 2, warm  # the pool had two kernels ready before the first hand-in
    pages = {s: _feedback(home, exchange, s) for s, home in homes.items()}
    assert "2.0 of 2.0 points" in pages["s1"] and "✗" not in pages["s1"]
    assert "0.0 of 2.0 points" in pages["s2"] and "✗ doubles (0 of 1): double(3) is 6" in pages["s2"]
    assert "✗ doubles (0 of 1): NotImplementedError" in pages["s3"]
    for student in ("s2", "s3"):  # nobody's page shows the answer (s1's shows s1's own)
        assert "BEGIN SOLUTION" not in pages[student] and "2 * x" not in pages[student]
    assert (exchange / COURSE_ID / "feedback").stat().st_mode & 0o777 == 0o711  # nobody lists the pages
    with _journal(course) as db:
        assert sorted(db.execute("select student, state from submissions")) == [
            ("s1", "graded"), ("s2", "graded"), ("s3", "graded")
        ]  # fmt: skip
    # Batch grading of the same course regrades what the service put in submitted/: same scores.
    assert main(["--course", str(course), "autograde", ASSIGNMENT, "--jobs", "2"]) == 0
    assert _scores(course) == {"s1": 2.0, "s2": 0.0, "s3": 0.0}


def _wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_service_killed_mid_grade_grades_the_hand_in_once_on_restart(tmp_path):
    course, exchange = _course(tmp_path)
    home = _hand_in(tmp_path, exchange, "s1", ANSWERS["slow"])
    service = _service(course, exchange)

    def grading() -> bool:
        if not (course / "hub-state" / "journal.sqlite").exists():
            return False
        with _journal(course) as db:
            return db.execute("select count(*) from submissions where state = 'grading'").fetchone()[0] == 1

    _wait_for(grading, 600)
    time.sleep(3)  # inside the notebook's slow cell
    service.send_signal(signal.SIGKILL)
    service.wait()
    assert not (course / "gradebook.db").exists() or _scores(course) == {}
    restarted = _service(course, exchange)
    out, _ = restarted.communicate(timeout=900)
    assert restarted.returncode == 0, out
    assert _scores(course) == {"s1": 2.0}
    with _journal(course) as db:
        (key,) = db.execute("select key from submissions").fetchone()
        events = [e for (e,) in db.execute("select event from events where key = ? order by at", (key,))]
    assert events == ["seen", "started", "requeued", "started", "graded"]
    assert "2.0 of 2.0 points" in _feedback(home, exchange, "s1")
    assert not [p for p in os.listdir(exchange / COURSE_ID / "feedback") if p.endswith(".tmp")]


def _digests(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_machine_fault_is_never_a_grade_and_a_restart_grades_the_hand_in(tmp_path):
    from tests.instructor.grading.test_grading_infrastructure import _fake_bwrap

    course, exchange = _course(tmp_path)
    home = _hand_in(tmp_path, exchange, "s1", ANSWERS["right"])
    inbound = exchange / COURSE_ID / "inbound"
    before = _digests(inbound)
    broken = _fake_bwrap(tmp_path, "bwrap", "bwrap: Creating new namespace failed", fail_kernels_only=True)
    service = subprocess.run(
        [sys.executable, "-m", "movierec_instructor.cli", "--course", str(course), "grade-service",
         f"--exchange={exchange}", f"--course-id={COURSE_ID}", "--no-owner-check", "--once", "--pool=1",
         "--imports=movierec_helpers.exercises"],
        env=tool_env({"MOVIEREC_BWRAP": broken}), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert service.returncode == 0, service.stdout + service.stderr
    assert _digests(inbound) == before, "the hand-in stays as handed in"
    assert not (course / "gradebook.db").exists() or _scores(course) == {}
    page = _feedback(home, exchange, "s1")
    assert "not graded yet" in page and "cannot start" in page
    with _journal(course) as db:
        assert db.execute("select state from submissions").fetchone() == ("not_graded",)
    restarted = _service(course, exchange)  # the machine mended
    out, _ = restarted.communicate(timeout=900)
    assert restarted.returncode == 0, out
    assert _scores(course) == {"s1": 2.0}
    assert "2.0 of 2.0 points" in _feedback(home, exchange, "s1")
