"""The one place that runs nbgrader's command line and names the gradebook."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


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
    done = subprocess.run(
        nbgrader_command(*args, db=db, log_level=log_level),
        cwd=course,
        env=tool_env(env),
        capture_output=True,
        text=True,
    )
    if check and done.returncode:
        raise RuntimeError(f"nbgrader {args[0]} failed:\n{done.stderr[-2000:]}")
    return done
