"""Grading kernels started ahead, with the course's imports done; each grades one submission, then dies.

The pool (in the grading service) starts ``movierec-grading`` kernels, in the same OS
sandbox and limits as any grading kernel (:mod:`movierec_instructor.integrity.limited_kernel`),
each in an empty folder of its own, and imports the course's modules in them silently (no
execution count, no output kept). A job claims one kernel by name
(``MOVIEREC_WARM_KERNEL``), nbgrader's Execute step (:class:`WarmExecute`) takes it over
for the first notebook it runs, copies the student's folder in, and kills it when the
notebook is done; a kernel is never handed to a second job: the claim is a rename, and the
service kills the job's kernel again when the job ends. Without a warm kernel (none ready,
or a second notebook) WarmExecute starts a fresh one, as nbgrader does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client import AsyncKernelManager, BlockingKernelClient, KernelManager
from nbgrader.preprocessors import Execute

from movierec_instructor.grading.autograde import GRADING_KERNEL, grading_env
from movierec_instructor.grading.nbgrader_runner import tool_env

WARM_ENV = "MOVIEREC_WARM_KERNEL"  # the claimed kernel's record, for the job's nbgrader
WARM_MARK = ".movierec-warm-kernel"  # left beside a notebook graded in a warm kernel
KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]  # as nbgrader's Execute starts a kernel
COPY_IN = "import shutil as _s; _s.copytree('/submission', '.', dirs_exist_ok=True, symlinks=True); del _s"


def warm_up_code(modules: list[str]) -> str:
    """Imports ``modules`` leaving no name behind (a missing one is skipped)."""
    lines = ["import importlib as _i"]
    lines += [f"try:\n    _i.import_module({m!r})\nexcept Exception:\n    pass" for m in modules]
    return "\n".join([*lines, "del _i"])


class WarmPool:
    """``size`` sandboxed kernels kept started and warmed in ``folder``."""

    def __init__(self, folder: Path, size: int, modules: list[str], sandbox: bool = True) -> None:
        self.folder, self.size, self.modules, self.sandbox = Path(folder), size, modules, sandbox
        self.folder.mkdir(parents=True, exist_ok=True)
        # The kernels' IPC sockets live in a short private folder: a Unix socket's path holds at
        # most 107 bytes, and under a deep course folder (or pytest's) every kernel died at
        # start, so that the jobs quietly started cold ones.
        self.sockets = Path(tempfile.mkdtemp(prefix="movierec-pool-"))
        self.kernels: dict[str, KernelManager] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.warming: threading.Thread | None = None
        self.stopping = threading.Event()
        self.failing = False  # three starts in a row failed: jobs start their own kernels

    def _start(self) -> None:
        with self.lock:
            self.count += 1
            name = f"k{os.getpid()}-{self.count}"
        home, run = self.folder / name, self.sockets / name
        (home / "work").mkdir(parents=True)
        run.mkdir(mode=0o700)
        manager = KernelManager(kernel_name=GRADING_KERNEL, transport="ipc", ip=str(run / "kernel"))
        manager.connection_file = str(run / "connection.json")
        # nbgrader's autograde sets this for the kernels it starts; notebooks read it (is_grading).
        env = tool_env(grading_env(self.sandbox, str(run), {"NBGRADER_EXECUTION": "autograde"}))
        manager.start_kernel(env=env, cwd=str(home / "work"), extra_arguments=KERNEL_ARGS)
        try:
            run_silently(
                manager.connection_file, warm_up_code(self.modules), timeout=300, client=manager.client()
            )
        except Exception:
            manager.shutdown_kernel(now=True)
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(run, ignore_errors=True)
            raise
        record = {
            "connection_file": manager.connection_file,
            "pid": manager.provisioner.process.pid,
            "work": str(home / "work"),
        }
        (home / "kernel.json").write_text(json.dumps(record))
        with self.lock:
            self.kernels[name] = manager
        (home / "kernel.json").rename(home / "ready.json")

    def ready(self) -> int:
        """How many kernels are ready to be claimed."""
        with self.lock:
            names = list(self.kernels)
        return sum((self.folder / n / "ready.json").exists() for n in names)

    def _prune(self) -> None:
        with self.lock:
            for name, manager in list(self.kernels.items()):
                if not manager.is_alive() and (self.folder / name / "ready.json").exists():
                    self.kernels.pop(name)
                    shutil.rmtree(self.folder / name, ignore_errors=True)
                    shutil.rmtree(self.sockets / name, ignore_errors=True)

    def _keep_warm(self) -> None:
        # One long-lived thread starts every kernel: Linux kills a kernel launcher when the
        # *thread* that started it ends (PR_SET_PDEATHSIG), so no short-lived thread may.
        failures = 0
        while not self.stopping.is_set():
            self._prune()
            self.failing = failures >= 3
            if self.failing:  # the machine cannot start kernels now: try again in a minute
                self.stopping.wait(60)
                failures = 0
                continue
            if self.ready() >= self.size:
                self.stopping.wait(0.5)
                continue
            try:
                self._start()
                failures = 0
            except Exception:  # noqa: BLE001 - jobs then start cold kernels, whose failures they report
                failures += 1

    def fill(self, wait: bool = False) -> None:
        """Keeps ``size`` kernels ready from a thread of the pool; ``wait`` until they are (at start)."""
        if self.warming is None:
            self.warming = threading.Thread(target=self._keep_warm, daemon=True)
            self.warming.start()
        # At most two minutes: past that, jobs start their own kernels rather than wait.
        deadline = time.monotonic() + 120
        while wait and self.ready() < self.size and time.monotonic() < deadline and not self.failing:
            time.sleep(0.2)

    def claim(self) -> str | None:
        """A ready kernel's record path for one job (never given again), or None."""
        with self.lock:
            kernels = list(self.kernels.items())
        for name, manager in kernels:
            ready = self.folder / name / "ready.json"
            claimed = self.folder / name / "claimed.json"
            if ready.exists() and manager.is_alive():
                ready.rename(claimed)
                return str(claimed)
        return None

    def discard(self, record: str | None) -> None:
        """Kills and removes the kernel of ``record`` (a path) or of that name; used kernels only die."""
        if not record:
            return
        name = Path(record).parent.name if os.sep in record else record
        with self.lock:
            manager = self.kernels.pop(name, None)
        if manager is not None:
            try:
                manager.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - it is gone already
                pass
        shutil.rmtree(self.folder / name, ignore_errors=True)
        shutil.rmtree(self.sockets / name, ignore_errors=True)

    def close(self) -> None:
        """Kills every kernel of the pool (after the kernel being warmed, if any)."""
        self.stopping.set()
        if self.warming is not None:
            self.warming.join()
        for name in list(self.kernels):
            self.discard(name)
        shutil.rmtree(self.sockets, ignore_errors=True)


def take_claimed() -> dict | None:
    """The claimed kernel's record, taken once by this process (None if none, or taken before)."""
    record = os.environ.get(WARM_ENV)
    if not record:
        return None
    taken = Path(record).with_name("taken.json")
    try:
        Path(record).rename(taken)
    except OSError:
        return None
    return json.loads(taken.read_text())


class AdoptedKernel(AsyncKernelManager):
    """A kernel manager for a kernel the pool started: it connects, interrupts and kills, never launches."""

    def adopt(self, record: dict) -> AdoptedKernel:
        """Takes over the kernel of a pool record (its connection file and launcher's pid)."""
        self.load_connection_file(record["connection_file"])
        self.pid = int(record["pid"])
        return self

    @property
    def has_kernel(self) -> bool:
        """Whether the adopted kernel still runs (nbclient then starts none)."""
        return self.is_alive_now()

    def is_alive_now(self) -> bool:
        """Whether the kernel's launcher still runs."""
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True

    async def is_alive(self) -> bool:
        """Whether the kernel's launcher still runs."""
        return self.is_alive_now()

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Kills the kernel: a used kernel is never shut down politely, nor reused."""
        try:
            os.kill(self.pid, signal.SIGKILL)  # the launcher; bubblewrap takes the sandbox with it
        except OSError:
            pass

    async def cleanup_resources(self, restart: bool = False) -> None:
        """Nothing: the pool removes the kernel's folder."""
        return None


class WarmExecute(Execute):
    """nbgrader's Execute step, running the notebook in the job's warm kernel when it has one."""

    def preprocess(self, nb, resources=None, km=None):
        """Runs the notebook in the job's warm kernel (the student's folder copied in), else as nbgrader."""
        record = take_claimed() if km is None else None
        if record is None:
            return super().preprocess(nb, resources, km=km)
        manager = AdoptedKernel(kernel_name=self.kernel_name).adopt(record)
        folder = Path((resources or {}).get("metadata", {}).get("path") or ".")
        try:
            shutil.copytree(folder, record["work"], dirs_exist_ok=True, symlinks=True)
            run_silently(record["connection_file"], COPY_IN)
            nb, resources = super().preprocess(nb, resources, km=manager)
            (folder / WARM_MARK).write_text(f"{record['connection_file']}\n")  # for the record (and tests)
            return nb, resources
        finally:
            if self.kc is not None:
                self.kc.stop_channels()
            self.kc = self.km = None
            run_coroutine(manager.shutdown_kernel(now=True))


def run_silently(connection_file: str, code: str, timeout: float = 120, client=None) -> None:
    """Runs ``code`` in a started kernel without output or execution count.

    Args:
        connection_file: the kernel's connection file.
        code: what to run.
        timeout: seconds to wait for the kernel, then for the code.
        client: the kernel manager's own client (it notices a kernel that died at once).

    Raises:
        RuntimeError: the kernel died or the code failed in it.
    """
    if client is None:
        client = BlockingKernelClient(connection_file=connection_file)
        client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        reply = client.execute_interactive(code, silent=True, store_history=False, timeout=timeout)
    finally:
        client.stop_channels()
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the warm kernel answered {reply['content'].get('ename', 'an error')}")


def run_coroutine(coroutine) -> None:
    """Runs a coroutine to its end from synchronous code."""
    import asyncio

    asyncio.run(coroutine)
