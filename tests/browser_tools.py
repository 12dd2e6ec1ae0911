"""What the browser tests share: Debian's Chromium through Playwright, and servers on loopback.

Used by tests/browser (``make test-browser``, ``make test-a11y``) and tests/hub (``make test-hub``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=MediaRouter,OptimizationHints",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chromium() -> Iterator:
    """Headless Chromium (Debian's), driven by Playwright; closed on exit."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def running(command: list[str], log_path: Path, env: dict, ready_url: str, what: str) -> Iterator[None]:
    """Runs ``command`` until the context ends, once ``ready_url`` answers (60 s at most).

    Args:
        command: the server's command line.
        log_path: where its output goes (its tail is shown if it does not start).
        env: its environment.
        ready_url: a URL that answers once the server is up.
        what: its name in the failure message.
    """
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(ready_url, timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail(f"{what} did not start:\n{log_path.read_text()[-3000:]}")
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
