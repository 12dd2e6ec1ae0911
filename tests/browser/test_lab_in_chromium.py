"""What a student sees: JupyterLab, started as ``make lab`` starts it, in headless Chromium.

``make test-browser`` runs this (it installs Debian's ``chromium`` and ``playwright`` first);
``make test`` does not, since it needs a browser. Every notebook of the course, with the
exercises solved, is opened in the lab and run with Run All. Then:

* every cell ran, none raised, none wrote to stderr;
* every chart drew data marks (not only axes), fits the output area, and Vega logged nothing;
* the rating form of notebook 03 renders, searches, and saves a rating to ``my_ratings.csv``;
* the page made no request outside the lab server, shows no news prompt, and the console
  shows no error.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.browser_tools import CHROMIUM, chromium, free_port, running

sync_api = pytest.importorskip("playwright.sync_api", reason="make test-browser installs playwright")

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())
RUN_TIMEOUT_MS = 300_000
# Run All of every notebook this many times: a failure that shows in one run of two (issue #28)
# must not hide behind a lucky single run.
ROUNDS = int(os.environ.get("MOVIEREC_BROWSER_ROUNDS", "3"))

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make test-browser installs chromium")


def _lab_options() -> list[str]:
    """The options ``make lab`` gives JupyterLab (read from scripts/course.py, which it runs, so they cannot
    drift)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_script", ROOT / "scripts" / "course.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return list(script.LAB_OPTIONS)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab server on a copy of the solved notebooks, outputs cleared (the browser makes them)."""
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    for name in ASSIGNMENTS:
        nb = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        (notebooks / name).mkdir(parents=True)
        nbformat.write(nb, notebooks / name / f"{name}.ipynb")
    # Render every cell (JupyterLab 4 otherwise detaches cells outside the window) and let
    # the test reach the app's command registry.
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--notebook-dir={notebooks}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        *_lab_options(),
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {**os.environ, "MOVIEREC_PROGRESS": "1", "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    url = f"http://127.0.0.1:{port}"
    with running(command, home / "lab.log", env, f"{url}/api/status?token={token}", "JupyterLab"):
        yield {"url": url, "token": token, "notebooks": notebooks}


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


class Page:
    """A notebook opened in the lab, with every request and console message recorded."""

    def __init__(self, browser, lab, name: str) -> None:
        self.page = browser.new_page(viewport={"width": 1600, "height": 1000})
        self.requests: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "console",
            lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        # A workspace of its own, reset: only this notebook open (not the tabs of earlier tests).
        self.page.goto(
            f"{lab['url']}/lab/workspaces/{name}/tree/{name}/{name}.ipynb?reset&token={lab['token']}"
        )
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
            timeout=120_000,
        )

    def close(self) -> None:
        """Shuts the notebook's kernel down and closes the page."""
        self.page.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")
        self.page.close()

    def run_all(self) -> list[dict]:
        """Run All, wait until every code cell has run and the kernel is idle; return the cells."""
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.page.wait_for_function(
            """() => {
                const panel = window.jupyterapp.shell.currentWidget;
                const code = panel.content.widgets.filter(c => c.model.type === 'code');
                const errored = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
                const done = code.every(
                    c => c.model.executionCount !== null || !c.model.sharedModel.source.trim());
                return (errored || done) && panel.sessionContext.session.kernel.status === 'idle';
            }""",
            timeout=RUN_TIMEOUT_MS,
            polling=1000,
        )
        return self.cells()

    def cells(self) -> list[dict]:
        return self.page.evaluate(
            """() => window.jupyterapp.shell.currentWidget.content.widgets
                 .filter(c => c.model.type === 'code')
                 .map(c => ({source: c.model.sharedModel.source, count: c.model.executionCount,
                             outputs: c.model.outputs.toJSON()}))"""
        )

    def charts(self) -> list[dict]:
        """Per chart of this notebook (not of other open tabs): data marks, its width, its output area's
        width."""
        return self.page.evaluate(
            """() => Array.from(window.jupyterapp.shell.currentWidget.node
                   .querySelectorAll('.jp-OutputArea-output .vega-embed')).map(e => ({
                 marks: e.querySelectorAll(
                     'g.role-mark > path, g.role-mark > text, g.role-mark > line').length,
                 width: e.querySelector('svg, canvas')
                     ? e.querySelector('svg, canvas').getBoundingClientRect().width : 0,
                 area: e.closest('.jp-OutputArea-output').getBoundingClientRect().width,
                 renderer: e.querySelector('svg') ? 'svg' : 'canvas'}))"""
        )

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if not re.match(r"(http://127\.0\.0\.1:\d+/|data:|blob:)", u)]


def _problems(cells: list[dict]) -> list[str]:
    found = []
    for cell in cells:
        if cell["source"].strip() and cell["count"] is None:
            found.append(f"did not run: {cell['source'][:60]!r}")
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                found.append(f"{out['ename']}: {out['evalue'][:200]} in {cell['source'][:60]!r}")
            if out["output_type"] == "stream" and out["name"] == "stderr":
                found.append(f"stderr: {''.join(out['text'])[:200]!r} in {cell['source'][:60]!r}")
    return found


@pytest.fixture
def open_page(browser, lab):
    pages = []

    def open_(name: str) -> Page:
        pages.append(Page(browser, lab, name))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1), ids=lambda r: f"round{r}")
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_run_all_in_the_browser(open_page, name, round_):
    page = open_page(name)
    cells = page.run_all()
    assert not _problems(cells), _problems(cells)
    charts = page.charts()
    expected = sum(
        1 for c in cells for o in c["outputs"] if "application/vnd.vegalite.v5+json" in o.get("data", {})
    )
    assert len(charts) == expected, f"{expected} charts in the outputs, {len(charts)} drawn"
    for i, chart in enumerate(charts):
        assert chart["renderer"] == "svg"
        assert chart["marks"] > 0, f"chart {i} has axes but no data marks"
        assert chart["width"] <= chart["area"], (
            f"chart {i} is {chart['width']:.0f} px wide, the output area {chart['area']:.0f}"
        )
    assert not page.outside_requests(), page.outside_requests()
    assert page.page.get_by_text("Jupyter news").count() == 0, "no news prompt over the notebook"
    vega = [m for m in page.console if "WARN" in m or "Infinite extent" in m]
    errors = [m for m in page.console if m.startswith(("error", "pageerror"))]
    assert not vega and not errors, vega + errors


def test_rating_form_renders_searches_and_saves(open_page, lab):
    name = "03_inspecting_embeddings"
    page = open_page(name)
    page.run_all()
    page.page.evaluate(
        """() => { const app = window.jupyterapp; const panel = app.shell.currentWidget;
                   panel.content.activeCellIndex = panel.content.widgets.length - 1;
                   return app.commands.execute('notebook:insert-cell-below'); }"""
    )
    page.page.evaluate(
        """() => { const cell = window.jupyterapp.shell.currentWidget.content.activeCell;
                   cell.model.sharedModel.setSource('rating_form(movies, MY_RATINGS)');
                   return window.jupyterapp.commands.execute('notebook:run-cell'); }"""
    )
    search = page.page.wait_for_selector("input[placeholder='type a title']", timeout=60_000)
    button = page.page.get_by_role("button", name="save rating")
    button.click()
    status = page.page.locator(".widget-label").last
    sync_api.expect(status).to_contain_text("Pick a title from the list", timeout=10_000)
    search.fill("Star Wars (1977)")
    search.press("Enter")
    button.click()
    sync_api.expect(status).to_contain_text("saved Star Wars (1977)", timeout=10_000)
    saved = lab["notebooks"] / name / "my_ratings.csv"
    for _ in range(20):
        if saved.exists():
            break
        time.sleep(0.25)
    assert "Star Wars (1977)" in saved.read_text()
    assert not page.outside_requests(), page.outside_requests()
    assert not [m for m in page.console if m.startswith(("error", "pageerror"))], page.console
