"""The grading kernel: ipykernel in the OS sandbox, with resource limits.

nbgrader starts this (kernel spec ``movierec-grading``) for every notebook it grades,
in the notebook's folder. It caps address space and CPU time (a memory bomb or an
endless loop fails alone: past the memory cap an allocation raises ``MemoryError`` in the
cell), caps the number of processes, and starts ipykernel inside the bubblewrap sandbox
of :mod:`movierec_instructor.integrity.sandbox`, killing it after the wall-clock limit. With
``MOVIEREC_SANDBOX=0`` (``movierec autograde --no-sandbox``) ipykernel runs directly,
with the limits only.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from movierec_instructor.integrity.sandbox import (
    SANDBOX_ENV,
    Limits,
    kernel_command,
    limit_processes,
    release_cgroup,
)


def apply_limits(limits: Limits) -> None:
    """Caps this process's (and its children's) address space and CPU time."""
    memory = int(limits.memory_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))


def _split_connection_file(argv: list[str]) -> tuple[str, list[str]]:
    args = list(argv)
    index = args.index("-f")
    connection_file = args[index + 1]
    del args[index : index + 2]
    return connection_file, args


def die_with_parent() -> None:
    """Asks Linux to kill this launcher when nbgrader dies (then bwrap kills the sandbox)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def run_sandboxed(argv: list[str], limits: Limits) -> int:
    """Runs ipykernel in the sandbox until it ends or the wall-clock limit; returns its status."""
    die_with_parent()
    connection_file, kernel_args = _split_connection_file(argv)
    command = kernel_command(connection_file, Path.cwd(), kernel_args, limits)
    limit_processes(limits)
    apply_limits(limits)
    process = subprocess.Popen(command)

    def stop(signum, _frame):
        process.kill()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, lambda *_: process.send_signal(signal.SIGINT))  # interrupt a cell
    try:
        return process.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        print(
            f"grading kernel stopped after the wall-clock limit of {limits.wall_seconds} s", file=sys.stderr
        )
        return 124
    finally:
        release_cgroup()


def main() -> None:
    limits = Limits.from_env()
    if os.environ.get(SANDBOX_ENV, "1") != "0":
        sys.exit(run_sandboxed(sys.argv[1:], limits))
    apply_limits(limits)
    from ipykernel import kernelapp

    sys.argv[0] = "ipykernel_launcher"
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
