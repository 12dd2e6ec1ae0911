"""The HTML pages the instructor package writes pass axe-core (WCAG 2.1 A and AA) in headless Chromium.

``make test-a11y`` runs this (``make test-browser`` too); ``make test`` does not, since it
needs a browser. Each page is made for real: a toy class of five is graded with nbgrader
(``movierec autograde``, outside the sandbox: the pages do not depend on it), one student
late, one whose answer raises, two who hand in the same code; then ``movierec feedback``,
``movierec stats``, the similarity report that ``movierec autograde`` writes and the grading
service's status page (a hand-in in each state). The
test-strength report is written from runner results of mutants that the real mutation
operators make of a real solution cell (running them would add minutes and no markup).

Each page is opened from disk with its Content-Security-Policy in force (axe is evaluated
through the browser's debugging protocol, which the policy does not govern), and axe-core (the
copy bundled by ``axe-playwright-python``) checks it against the WCAG 2.0/2.1 A and AA rules,
then those and its best practices. A failure lists each violation's rule, impact, help and
nodes. What axe has no rule for (captions, scoped headers, charts described in words, one
``h1``, the policy, no request) is read from the page in the browser.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from movierec_instructor.cli import main
from movierec_instructor.hub.status_page import render
from movierec_instructor.integrity.untrusted import CSP
from tests.browser_tools import CHROMIUM, chromium
from tests.toy_course import hand_in, toy_course

sync_api = pytest.importorskip("playwright.sync_api", reason="make test-a11y installs playwright")
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="make test-a11y installs axe-playwright-python"
)

ROOT = Path(__file__).resolve().parents[2]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MUST_RUN = {"html-has-lang", "document-title", "color-contrast"}
# What the page says about itself, read in the browser: the checks of the brief that axe has no rule for.
STRUCTURE = """() => {
  const text = id => (document.getElementById(id || "") || {textContent: ""}).textContent.trim();
  return {
    lang: document.documentElement.lang,
    title: document.title,
    h1: document.querySelectorAll("h1").length,
    main: document.querySelectorAll("main").length,
    outside: Array.from(document.body.children, e => e.tagName).filter(t => !["HEADER", "MAIN"].includes(t)),
    csp: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || "",
    headings: Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6")).map(h => Number(h.tagName[1])),
    // A student's own tables (cell outputs, .rendered_html) are theirs; ours have a caption and scopes.
    tables: Array.from(document.querySelectorAll("table:not(.rendered_html table)"), t => ({
      caption: t.caption ? t.caption.textContent.trim() : "",
      unscoped: t.querySelectorAll("th:not([scope])").length,
    })),
    charts: Array.from(document.querySelectorAll("svg")).map(s => ({
      role: s.getAttribute("role"),
      name: text(s.getAttribute("aria-labelledby")) || s.getAttribute("aria-label") || "",
      description: text(s.getAttribute("aria-describedby")),
    })),
  };
}"""
ASSIGNMENT = "toy"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make test-a11y installs chromium")
INTRO = """# A toy assignment

Three movies and their ratings; *answer* the two exercises below.

## Exercise 1: area and scale"""
SETUP = """import matplotlib.pyplot as plt
import pandas as pd
from movierec_helpers.exercises import PartialCredit

ratings = pd.DataFrame({"movie": ["Heat", "Fargo", "Babe"], "rating": [4, 5, 3]})
plt.figure(figsize=(3, 2))
plt.bar(ratings["movie"], ratings["rating"])
plt.show()
ratings"""
SOLUTION = """def area(w, h):
    ### BEGIN SOLUTION
    return w * h
    ### END SOLUTION

def scale(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION"""
AREA_TESTS = """checks = PartialCredit(points=3)
with checks.check(1, "multiplies width by height"):
    assert area(2, 3) == 6, "area(2, 3) is 6"
with checks.check(1, "a zero side gives area 0"):
    assert area(0, 5) == 0, "a zero side gives area 0"
### BEGIN HIDDEN TESTS
with checks.check(1, "returns a number", hidden=True):
    assert isinstance(area(1, 1), (int, float))
### END HIDDEN TESTS
checks.score"""
SCALE_TESTS = """checks = PartialCredit(points=1)
with checks.check(1, "scales by two"):
    assert scale(3) == 6, "scale(3) should be 6"
checks.score"""
STRONG = "def area(w, h):\n    return w * h\n\ndef scale(x):\n    return 2 * x"
CLASS = {
    "copy_a": STRONG,
    "copy_b": STRONG,
    "late": STRONG,
    "weak": "def area(w, h):\n    return w + h\n\ndef scale(x):\n    return x ** 2",
    "broken": STRONG + "\n\nratings['rating'].mean() / undefined_name",
}
DEADLINES = """timezone = "UTC"
[late_policy]
penalty_percent = 10
per = "day"
[due]
toy = 2026-12-01T23:59:00+00:00
"""
PAGES = [
    "feedback-late",
    "feedback-broken",
    "feedback-weak",
    "similarity",
    "stats",
    "strength",
    "hub-status",
]


def _notebook(answer: str | None = None) -> nbformat.NotebookNode:
    """The toy assignment (the instructor's version), or a student's copy with ``answer``."""
    cells = [new_markdown_cell(INTRO)]
    for grade_id, source, points in [
        ("setup", SETUP, None),
        ("answers", answer or SOLUTION, None),
        ("area_tests", AREA_TESTS, 3),
        ("scale_tests", SCALE_TESTS, 1),
    ]:
        cell = new_code_cell(source)
        cell.metadata["nbgrader"] = {
            "schema_version": 3,
            "grade_id": grade_id,
            "locked": grade_id != "answers",
            "solution": grade_id == "answers",
            "grade": points is not None,
            **({"points": points} if points is not None else {}),
        }
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "movierec",
        "display_name": "Python 3 (movierec)",
        "language": "python",
    }
    return nb


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    """The toy class graded in the sandbox, with its feedback, stats and similarity pages written."""
    course = tmp_path_factory.mktemp("a11y")
    toy_course(course, ASSIGNMENT, _notebook(), files={"deadlines.toml": DEADLINES})
    hand_in(
        course,
        ASSIGNMENT,
        {student: _notebook(answer) for student, answer in CLASS.items()},
        timestamp="2026-12-01 12:00:00.000000 UTC",
    )
    late = course / "submitted" / "late" / ASSIGNMENT / "timestamp.txt"
    late.write_text("2026-12-03 01:59:00.000000 UTC")
    args = ["--course", str(course)]
    assert main([*args, "autograde", ASSIGNMENT, "--jobs", "2", "--no-sandbox"]) == 0
    assert main([*args, "feedback", ASSIGNMENT]) == 0
    assert main([*args, "stats", ASSIGNMENT]) == 0
    return course


def _strength_results() -> list:
    """Runner results (killed, hidden only, survived, equivalent) of real mutants of a real solution cell."""
    from movierec_instructor.strength.mutation import expression_mutants
    from movierec_instructor.strength.runner import ExerciseStrength, MutantResult

    solution = nbformat.read(
        ROOT / "solutions" / "01_exploring_movielens" / "01_exploring_movielens.ipynb", 4
    )
    cell = next(c for c in solution.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "most_rated")
    mutants = expression_mutants("most_rated", cell.source)
    assert len(mutants) >= 4, "the real operators make mutants of most_rated"
    killed, hidden, survived, equivalent = mutants[:4]
    return [
        ExerciseStrength(
            "01_exploring_movielens",
            "most_rated",
            2.0,
            [
                MutantResult(
                    killed, True, "0 of 2 points", 1.2, named=True, feedback="✗ sorted", visible=True
                ),
                MutantResult(hidden, True, "1 of 2 points", 1.1, feedback="✗ a hidden check: ties"),
                MutantResult(survived, False, "2 of 2 points", 0.9),
                MutantResult(
                    equivalent, False, "2 of 2 points", 0.8, equivalent="the same order <either way>"
                ),
            ],
        )
    ]


def _status_rows() -> list[dict]:
    """The grading service's page with a hand-in in each state (as its journal holds them)."""
    seen = 1_796_000_000.0
    states = [("pending", None, None), ("grading", None, None), ("graded", None, 2.5),
              ("not_graded", "the grading kernel cannot start", None), ("superseded", None, None),
              ("refused", "not a hand-in folder", None)]  # fmt: skip
    return [
        {
            "student": f"s{k}",
            "assignment": ASSIGNMENT,
            "seen": seen - k,
            "state": state,
            "reason": reason,
            "score": score,
            "ahead": 2,
        }  # fmt: skip
        for k, (state, reason, score) in enumerate(states)
    ]


@pytest.fixture(scope="module")
def pages(graded_class, tmp_path_factory) -> dict[str, Path]:
    """Every page, by name (``feedback-<student>``, ``similarity``, ``stats``, ``strength``)."""
    from movierec_instructor.strength.report import write_reports

    found = {
        f"feedback-{student}": graded_class / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        for student in CLASS
    }
    found["similarity"] = graded_class / f"similarity-{ASSIGNMENT}.html"
    found["stats"] = graded_class / f"stats-{ASSIGNMENT}.html"
    status = tmp_path_factory.mktemp("hub") / "status.html"
    status.write_text(render(_status_rows(), "teacher", everyone=True), encoding="utf-8")
    found["hub-status"] = status
    found["strength"] = write_reports(_strength_results(), tmp_path_factory.mktemp("strength"), "strength")[
        "html"
    ]
    return found


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def audit(browser, path: Path, tags: list[str]) -> dict:
    """axe-core's results for the page at ``path`` (rules of ``tags``), with its requests and console.

    Args:
        browser: the Chromium of :func:`browser`.
        path: the HTML file, opened as a ``file://`` URL.
        tags: axe rule tags to run (``wcag2a``, ``best-practice``, ...).

    Returns:
        axe's result object (``violations``, ``passes``, ``incomplete``, ...) plus
        ``requests`` (every URL the page asked for) and ``console`` (its errors and warnings).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, console = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    try:
        page.goto(path.as_uri(), wait_until="load")
        options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
        results = axe_playwright.Axe().run(page, options=options).response
    finally:
        page.close()
    return {**results, "requests": requests, "console": console}


def describe(violations: list[dict]) -> str:
    """Each violation: rule id, impact, help, and the nodes (CSS target and axe's summary)."""
    lines = []
    for v in sorted(
        violations, key=lambda v: ["critical", "serious", "moderate", "minor"].index(v["impact"])
    ):
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} node(s)]")
        for node in v["nodes"][:8]:
            summary = " ".join(node.get("failureSummary", "").split())[:300]
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def by_impact(violations: list[dict]) -> dict[str, int]:
    """How many violated rules per impact."""
    return dict(Counter(v["impact"] for v in violations))


def assert_axe_ran(results: dict) -> None:
    """axe ran the rules every page needs, on some of its elements (a run that checked nothing fails)."""
    checked = results["passes"] + results["violations"]
    assert MUST_RUN <= {r["id"] for r in checked}, f"axe ran only {sorted(r['id'] for r in checked)}"
    assert sum(len(r["nodes"]) for r in checked) > 0, "axe checked no element"


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_wcag_21_aa_has_no_serious_or_critical_violation(browser, pages, name):
    results = audit(browser, pages[name], WCAG_TAGS)
    assert_axe_ran(results)
    severe = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not severe, f"{name}: axe (WCAG 2.1 A/AA) finds\n{describe(severe)}"


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_no_violation_of_any_impact_best_practices_included(browser, pages, name):
    results = audit(browser, pages[name], [*WCAG_TAGS, "best-practice"])
    assert_axe_ran(results)
    assert {"landmark-one-main", "page-has-heading-one", "region"} <= {r["id"] for r in results["passes"]}
    assert not results["violations"], (
        f"{name}: axe (WCAG 2.1 A/AA and best practices) finds {by_impact(results['violations'])}\n"
        f"{describe(results['violations'])}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_page_structure_what_axe_does_not_check(browser, pages, name):
    """Captions and scoped headers of our tables, charts named and described, the policy, no request."""
    page = browser.new_page()
    requests, console = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(pages[name].as_uri(), wait_until="load")
    found = page.evaluate(STRUCTURE)
    page.close()
    assert (found["lang"], found["h1"], found["main"], found["outside"]) == ("en", 1, 1, [])
    assert found["title"].strip() and found["csp"] == CSP
    levels = found["headings"]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels
    for t in found["tables"]:
        assert t["caption"] and t["unscoped"] == 0, t
    for chart in found["charts"]:
        assert chart["role"] == "img" and chart["name"] and len(chart["description"]) > 40, chart
    assert len(found["charts"]) == (3 if name == "stats" else 0)
    assert len(found["tables"]) >= (0 if name.startswith("feedback") else 1)
    assert requests == [pages[name].as_uri()], "the page loads nothing"
    assert not console, console


def _header(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("<header", 1)[1].split("</header>", 1)[0]


@pytest.mark.slow
def test_late_line_and_scores_are_in_the_feedback_header(pages):
    header = _header(pages["feedback-late"])
    assert "submitted 26 h late: -20%" in header and "Late submission penalty (Score: -0.8)" in header
    assert '<a href="#area_tests">' in header and 'id="area_tests"' in pages["feedback-late"].read_text()
    assert "late" not in _header(pages["feedback-weak"]).lower()
