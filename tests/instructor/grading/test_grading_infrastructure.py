"""A machine fault is never a grade (issue #22).

* As a non-root instructor who holds 300 threads elsewhere, the sample class grades exactly:
  the sandbox's process cap counts the sandbox, not the user.
* With the grading kernel unable to start, every submission stays as handed in, the report
  lists each student as NOT GRADED, and `movierec autograde` exits non-zero.
* A bubblewrap that fails the way Ubuntu 24.04's AppArmor makes it fail gets the exact fixes;
  a working binary after a failing one is used.
"""

import csv
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from movierec_instructor.cli import main
from movierec_instructor.integrity import sandbox
from tests.toy_course import linked_course

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT = "01_exploring_movielens"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
NOBODY = 65534
HOLD_THREADS = textwrap.dedent("""
    import sys, threading, time
    stop = threading.Event()
    for _ in range(int(sys.argv[1])):
        threading.Thread(target=stop.wait, daemon=True).start()
    print(threading.active_count(), flush=True)
    time.sleep(float(sys.argv[2]))
""")


def _fake_bwrap(folder: Path, name: str, fails_with: str | None, fail_kernels_only: bool = False) -> str:
    """A bwrap stand-in: fails as the real one fails there, or passes the trial and runs the real one."""
    real = sandbox.bwrap_candidates()[-1]
    path = folder / name
    if fails_with and not fail_kernels_only:
        body = f'echo "{fails_with}" >&2; exit 1'
    elif fails_with:
        # The trial sandbox (`... -- true`) works; starting a kernel does not.
        body = f'if [ "${{@: -1}}" = "true" ]; then exec "{real}" "$@"; fi; echo "{fails_with}" >&2; exit 1'
    else:
        body = f'exec "{real}" "$@"'
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)
    return str(path)


def _sample_course(parent: Path) -> Path:
    course = linked_course(parent / "course")
    assert main(["--course", str(course), "sample-class", ASSIGNMENT]) == 0
    return course


def _digests(course: Path) -> dict[str, str]:
    return {
        str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((course / "submitted").rglob("*"))
        if p.is_file()
    }


def test_apparmor_failure_names_the_fixes(tmp_path, monkeypatch):
    failing = _fake_bwrap(tmp_path, "bwrap", "bwrap: setting up uid map: Permission denied")
    monkeypatch.setenv(sandbox.BWRAP_ENV, failing)
    with pytest.raises(sandbox.SandboxUnavailable) as error:
        sandbox.check_available()
    message = str(error.value)
    assert "setting up uid map: Permission denied" in message
    assert "AppArmor" in message and "apt-get install bubblewrap" in message
    assert f"profile movierec-bwrap {failing}" in message and "apparmor_parser -r" in message
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in message


def test_a_working_binary_after_a_failing_one_is_used(tmp_path, monkeypatch):
    failing = _fake_bwrap(tmp_path, "system-bwrap", "bwrap: setting up uid map: Permission denied")
    working = _fake_bwrap(tmp_path, "wheel-bwrap", None)
    monkeypatch.setenv(
        sandbox.BWRAP_ENV, "recorded"
    )  # so that the choice made below is undone after the test
    monkeypatch.delenv(sandbox.BWRAP_ENV)
    monkeypatch.setattr(sandbox, "bwrap_candidates", lambda: [failing, working])
    assert sandbox.check_available() == working
    assert os.environ[sandbox.BWRAP_ENV] == working, "the grading kernels use the one that works"


def test_a_system_bwrap_comes_before_the_wheel(tmp_path, monkeypatch):
    system = _fake_bwrap(tmp_path, "bwrap", None)
    monkeypatch.delenv(sandbox.BWRAP_ENV, raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    candidates = sandbox.bwrap_candidates()
    assert candidates[0] == system and len(candidates) == 2


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_that_cannot_start_grades_nobody_and_touches_nothing(tmp_path, monkeypatch, capsys):
    course = _sample_course(tmp_path)
    before = _digests(course)
    broken = _fake_bwrap(
        tmp_path,
        "bwrap",
        "bwrap: Creating new namespace failed: Resource temporarily unavailable",
        fail_kernels_only=True,
    )
    monkeypatch.setenv(sandbox.BWRAP_ENV, broken)
    assert main(["--course", str(course), "autograde", ASSIGNMENT]) == 1
    assert _digests(course) == before, "every submission as handed in: no .rejected, no blank swap"
    with open(course / f"grading-report-{ASSIGNMENT}.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["student"] for r in rows if r["action"].startswith("NOT GRADED")} == {"alice", "bob"}
    assert any("cannot start" in r["problem"] for r in rows)
    assert "NOT GRADED (2): alice, bob" in capsys.readouterr().err
    # The machine mended, a re-run grades them.
    monkeypatch.delenv(sandbox.BWRAP_ENV)
    assert main(["--course", str(course), "autograde", ASSIGNMENT]) == 0
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
    assert scores["bob"] == 0 and scores["alice"] == gb.find_assignment(ASSIGNMENT).max_score


AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _why_not_as_nobody() -> str | None:
    """Why this machine cannot run the grader as another user, or None if it can."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not sys.platform.startswith("linux"):
        return "needs root and setpriv to run the grader as another user"
    # Through a shell, as the grader starts kernels: exec from a process already running as that user.
    done = subprocess.run(
        [*AS_NOBODY, "/bin/sh", "-c", 'exec "$0" -c "import movierec_instructor"', sys.executable],
        capture_output=True,
    )
    if done.returncode:
        # e.g. a pyenv interpreter under /root: other users cannot reach the environment's Python.
        return f"user {NOBODY} cannot run this environment's Python ({os.path.realpath(sys.executable)})"
    return None


@pytest.mark.slow
@pytest.mark.sandbox
def test_non_root_grader_holding_300_threads_grades_exactly():
    why_not = _why_not_as_nobody()
    if why_not:
        pytest.skip(why_not)
    parent = Path(tempfile.mkdtemp(prefix="movierec-nonroot-", dir="/tmp"))
    try:
        course = _sample_course(parent)
        home = parent / "home"
        home.mkdir()
        for path in [parent, *parent.rglob("*")]:
            os.lchown(path, NOBODY, NOBODY)
        parent.chmod(parent.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
        as_nobody = AS_NOBODY
        env = {
            **os.environ,
            "HOME": str(home),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "MOVIEREC_PROGRESS": "0",
        }
        holder = subprocess.Popen(
            [*as_nobody, sys.executable, "-c", HOLD_THREADS, "300", "900"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert int(holder.stdout.readline()) >= 300
            done = subprocess.run(
                [
                    *as_nobody,
                    sys.executable,
                    "-m",
                    "movierec_instructor.cli",
                    "--course",
                    str(course),
                    "autograde",
                    ASSIGNMENT,
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
        finally:
            holder.kill()
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            scores = {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
            full = gb.find_assignment(ASSIGNMENT).max_score
        assert scores == {"alice": full, "bob": 0}
    finally:
        shutil.rmtree(parent, ignore_errors=True)
