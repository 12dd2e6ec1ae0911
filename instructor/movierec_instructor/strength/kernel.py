"""The one kernel a test-strength run executes an assignment's cells in, as nbgrader would.

:class:`StrengthKernel` runs code cells and reports what nbgrader would see of each
(:class:`CellRun`: the score, stdout, stderr, errors, a time limit, a crashed kernel). Checks
stop at their first failure here (``FAIL_FAST``): a run only needs to know whether one fails.
"""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import KernelManager

from movierec_instructor.course import KERNEL

FAIL_FAST = (
    "from movierec_helpers.exercises.checks import PartialCredit as _PartialCredit\n"
    "_PartialCredit.first_failure_ends_cell = True\ndel _PartialCredit"
)


@dataclass
class CellRun:
    """What one cell execution gave."""

    ok: bool
    score: float | None = None
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    timed_out: bool = False
    kernel_died: bool = False
    seconds: float = 0.0


class StrengthKernel:
    """One course kernel that runs code cells and reports what nbgrader would see."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.sockets = tempfile.TemporaryDirectory(prefix="movierec-strength-")
        self.manager: KernelManager | None = None
        self.start()

    def start(self) -> None:
        self.manager = KernelManager(
            kernel_name=KERNEL, transport="ipc", ip=os.path.join(self.sockets.name, "kernel")
        )
        # The kernel's own log (TensorFlow's C++ lines) is not the report's business.
        self.manager.start_kernel(
            cwd=str(self.cwd), env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)
        self.run(FAIL_FAST, timeout=60)

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.manager is not None:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=True)
            self.manager = None

    def close(self) -> None:
        self.stop()
        self.sockets.cleanup()

    def run(self, code: str, timeout: float) -> CellRun:
        """Executes ``code``; a cell past ``timeout`` seconds is interrupted."""
        outputs: list[dict] = []

        def keep(message: dict) -> None:
            kind = message["header"]["msg_type"]
            if kind in ("stream", "execute_result", "error"):
                outputs.append({"type": kind, **message["content"]})

        start = time.perf_counter()
        try:
            reply = self.client.execute_interactive(
                code, timeout=timeout, output_hook=keep, store_history=False, allow_stdin=False
            )
        except TimeoutError:
            return self._after_timeout(time.perf_counter() - start)
        except (RuntimeError, queue.Empty):
            return CellRun(
                ok=False, kernel_died=True, error="the kernel stopped", seconds=time.perf_counter() - start
            )
        seconds = time.perf_counter() - start
        if not self.manager.is_alive():
            return CellRun(ok=False, kernel_died=True, error="the kernel died", seconds=seconds)
        stderr = "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stderr")
        stdout = "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stdout")
        errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["type"] == "error"]
        results = [o["data"].get("text/plain", "") for o in outputs if o["type"] == "execute_result"]
        score = None
        if results:
            try:
                score = float(results[-1])
            except ValueError:
                score = None
        ok = reply["content"]["status"] == "ok" and not errors
        return CellRun(
            ok=ok, score=score, stdout=stdout, stderr=stderr, error="; ".join(errors)[:300], seconds=seconds
        )

    def _after_timeout(self, seconds: float) -> CellRun:
        self.manager.interrupt_kernel()
        try:
            self.client.execute_interactive("pass", timeout=30, store_history=False)
            died = not self.manager.is_alive()
        except (TimeoutError, RuntimeError, queue.Empty):
            died = True
        return CellRun(ok=False, timed_out=True, kernel_died=died, error="time limit", seconds=seconds)
