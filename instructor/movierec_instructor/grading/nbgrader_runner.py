"""The one place that runs nbgrader's command line and names the gradebook.

A process that runs nbgrader many times (the grading service's workers) calls
:func:`preload` once: from then on, while it has a single thread, each nbgrader command runs
in a fork of it instead of a new interpreter, with the same arguments, folder, environment
and exit status, but without importing nbgrader again (about 1.4 s of CPU each time here).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

_preloaded = False


def gradebook_url(course: Path) -> str:
    """The SQLite URL of the course's gradebook (``<course>/gradebook.db``)."""
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment with the interpreter's scripts first on PATH (nbgrader runs `alembic`).

    Graded runs hide progress bars (their output varies run to run).
    """
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "MOVIEREC_PROGRESS": "0",
        **(extra or {}),
    }


def nbgrader_command(*args: str, db: str | None = None, log_level: str = "ERROR") -> list[str]:
    """The argv of ``nbgrader ARGS`` with this interpreter, a gradebook and a log level."""
    command = [sys.executable, "-m", "nbgrader", *args, f"--log-level={log_level}"]
    if db:
        command.append(f"--CourseDirectory.db_url={db}")
    return command


def run_nbgrader(
    course: Path,
    *args: str,
    db: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = False,
    log_level: str = "ERROR",
) -> subprocess.CompletedProcess:
    """Runs ``nbgrader ARGS`` in the course directory and returns the finished process.

    Args:
        course: the course directory (holds ``nbgrader_config.py``).
        *args: nbgrader's sub-command and its options.
        db: gradebook URL; nbgrader's default when None.
        env: extra environment variables.
        check: raise :class:`RuntimeError` with nbgrader's stderr when it fails.
        log_level: nbgrader's log level.

    Raises:
        RuntimeError: ``check`` is set and nbgrader exited with an error.
    """
    command = nbgrader_command(*args, db=db, log_level=log_level)
    if can_fork():
        done = _run_forked(command, Path(course), tool_env(env))
    else:
        done = subprocess.run(command, cwd=course, env=tool_env(env), capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"nbgrader {args[0]} failed:\n{done.stderr[-2000:]}")
    return done


def preload() -> None:
    """Imports nbgrader's applications here once; later commands run in forks of this process."""
    global _preloaded
    import nbgrader.apps.nbgraderapp  # noqa: F401 - the import is the point

    _preloaded = True


def _threads() -> int:
    try:
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith("Threads:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return 0  # unknown (not Linux): never fork


def can_fork() -> bool:
    """Whether nbgrader runs in a fork: preloaded, and one thread (a fork copies no other thread's locks)."""
    return _preloaded and hasattr(os, "fork") and _threads() == 1


def _nbgrader_child(command: list[str], cwd: Path, env: Mapping[str, str], out: int, err: int) -> None:
    """In the forked child: becomes ``command`` (``python -m nbgrader ...``) and exits with its status."""
    status = 1
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["nbgrader", *command[3:]]
        from nbgrader.apps.nbgraderapp import NbGraderApp

        NbGraderApp.launch_instance(argv=command[3:])
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on stderr, as a failed command would
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _run_forked(command: list[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _nbgrader_child(command, cwd, env, out.fileno(), err.fileno())
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = [f.read().decode("utf-8", "replace") for f in (out, err)]
    return subprocess.CompletedProcess(command, code, text[0], text[1])


class ForkedSteps:
    """nbgrader commands run one after another in a fork, stopping at the first that fails (like ``&&``).

    Answers ``poll`` and ``wait`` as a :class:`subprocess.Popen` would.
    """

    def __init__(self, commands: list[list[str]], cwd: Path, env: Mapping[str, str]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.returncode: int | None = None
        self.pid = os.fork()
        if self.pid == 0:
            status = 1
            try:
                for command in commands:
                    status = _run_forked(command, cwd, env).returncode
                    if status:
                        break
            finally:
                os._exit(status)

    def poll(self) -> int | None:
        """The exit status, or None while running."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        """Waits for the commands and returns the exit status."""
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


def start_nbgrader(commands: list[list[str]], cwd: Path, env: Mapping[str, str]):
    """Starts nbgrader ``commands`` (each from :func:`nbgrader_command`) one after another, output dropped.

    Returns:
        A :class:`subprocess.Popen` (``bash -c 'A && B'``) or, after :func:`preload`, a
        :class:`ForkedSteps`; both answer ``poll()`` and ``wait()``.
    """
    if can_fork():
        return ForkedSteps(commands, cwd, env)
    script = " && ".join(shlex.join(command) for command in commands)
    return subprocess.Popen(
        ["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
