"""What instructors learn from grading (issue #26): per-check statistics and regrading one student.

A planted class of 12 is graded for real (nbgrader, sandbox): strong students fail only a
check that is wrong on purpose (it expects x**2 from "scale by 2"), most students fail a
zero-side check, and a hidden check nobody fails.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from movierec_instructor import autograde as grading
from movierec_instructor.cli import main
from movierec_instructor.nbgrader_runner import run_nbgrader

ASSIGNMENT = "planted"
ROOT = Path(__file__).resolve().parents[2]
SETUP = "from movierec_helpers.exercises import PartialCredit"
SOLUTION = '''def area(w, h):
    ### BEGIN SOLUTION
    return w * h
    ### END SOLUTION

def scale(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION'''
AREA_TESTS = '''checks = PartialCredit(points=3)
with checks.check(1, "multiplies width by height"):
    assert area(2, 3) == 6, "area(2, 3) is 6"
with checks.check(1, "a zero side gives area 0"):
    assert area(0, 5) == 0, "a zero side gives area 0"
### BEGIN HIDDEN TESTS
with checks.check(1, "returns a number", hidden=True):
    assert isinstance(area(1, 1), (int, float))
### END HIDDEN TESTS
checks.score'''
SCALE_TESTS = '''checks = PartialCredit(points=1)
with checks.check(1, "scales by two"):
    assert scale(3) == 9, "scale(3) should be 9"  # wrong on purpose: the planted bad check
checks.score'''
DOUBLE_TESTS = '''checks = PartialCredit(points=2)
with checks.check(1, "doubles"):
    assert double(3) == 6, "double(3) is 6"
with checks.check(1, "doubles negatives"):
    assert double(-3) == -6, "double(-3) is -6"
checks.score'''
CELLS = [("setup", SETUP, None), ("answers", SOLUTION, None), ("area_tests", AREA_TESTS, 3),
         ("scale_tests", SCALE_TESTS, 1), ("double_tests", DOUBLE_TESTS, 2)]
STRONG = {"area": "w * h", "scale": "2 * x", "double": "2 * x"}
WEAK = {"area": "w * h if w else 1", "scale": "x ** 2", "double": "abs(2 * x)"}
WEAKEST = {"area": "w + h", "scale": "x ** 2", "double": "x + 2"}
CLASS = {**{f"s{i:02d}": STRONG for i in range(1, 5)}, **{f"s{i:02d}": WEAK for i in range(5, 12)}, "s12": WEAKEST}
EXPECTED_PASSED = {"multiplies width by height": 11, "a zero side gives area 0": 4, "a hidden check: returns a number": 12,
                   "scales by two": 8, "doubles": 11, "doubles negatives": 4}


def _notebook(answers=None):
    cells = []
    for grade_id, source, points in CELLS:
        if grade_id == "answers" and answers is not None:
            source = "\n\n".join(f"def {name}({'w, h' if name == 'area' else 'x'}):\n    return {body}"
                                 for name, body in answers.items())
        cell = new_code_cell(source)
        meta = {"schema_version": 3, "grade_id": grade_id, "locked": grade_id != "answers",
                "solution": grade_id == "answers", "grade": points is not None}
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "movierec", "display_name": "Python 3 (movierec)", "language": "python"}
    return nb


def _scores(db):
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        return {s.student_id: (s.score, str(s.timestamp)) for s in gb.assignment_submissions(ASSIGNMENT)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("stats")
    (course / "solutions" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(_notebook(), course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    db = f"sqlite:///{course / 'gradebook.db'}"
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force",
                 f"--CourseDirectory.release_directory={course / 'notebooks'}", db=db)
    for student, answers in CLASS.items():
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(_notebook(answers), target)
        (target.parent / "timestamp.txt").write_text("2026-11-30 12:00:00.000000 UTC")
    findings = grading.autograde(course, ASSIGNMENT, jobs=2, db=db)
    return {"course": course, "db": db, "findings": findings, "scores": _scores(db)}


@pytest.mark.sandbox
def test_the_planted_class_is_graded_exactly(graded):
    totals = {s: score for s, (score, _) in graded["scores"].items()}
    assert totals == {**{f"s{i:02d}": 5.0 for i in range(1, 5)}, **{f"s{i:02d}": 4.0 for i in range(5, 12)}, "s12": 2.0}


@pytest.mark.sandbox
def test_stats_count_every_check_and_flag_the_planted_ones(graded, capsys):
    course = graded["course"]
    assert main(["--course", str(course), "stats", ASSIGNMENT]) == 0
    printed = capsys.readouterr().out
    rows = {r["check"]: r for r in json.loads((course / f"stats-{ASSIGNMENT}.json").read_text())}
    assert {label: r["passed"] for label, r in rows.items()} == EXPECTED_PASSED
    assert all(r["students"] == 12 for r in rows.values())
    flagged = {label: r["flag"] for label, r in rows.items() if r["flag"]}
    assert set(flagged) == {"a hidden check: returns a number", "scales by two"}, flagged
    assert flagged["a hidden check: returns a number"].startswith("nobody fails it")
    assert flagged["scales by two"].startswith("failed mostly by strong students")
    assert rows["scales by two"]["discrimination"] < -0.5 < 0 < rows["a zero side gives area 0"]["discrimination"]
    assert rows["a zero side gives area 0"]["failures"][0] == ["a zero side gives area 0", 8]
    assert rows["a zero side gives area 0"]["mean_points"] == pytest.approx(4 / 12, abs=1e-4)  # rounded to 4 places
    assert "look at: scale_tests / scales by two: failed mostly by strong students" in printed
    html = (course / f"stats-{ASSIGNMENT}.html").read_text()
    specs = [json.loads(s.replace("<\\/", "</")) for s in
             re.findall(r'<script type="application/vnd.vegalite\+json"[^>]*>(.*?)</script>', html, flags=re.S)]
    titles = [s["title"]["text"] if isinstance(s["title"], dict) else s["title"] for s in specs]
    assert titles[1:] == [f"{e}: points per student" for e in ("area_tests", "scale_tests", "double_tests")]
    area = next(s for s in specs if str(s["title"]).startswith("area_tests"))
    (data,) = area["datasets"].values()
    assert {row["points"]: row["students"] for row in data} == {1.0: 1, 2.0: 7, 3.0: 4}
    assert html.count("<svg") == 4 and "Content-Security-Policy" in html
    assert (course / f"stats-{ASSIGNMENT}.csv").read_text().count("\n") == len(EXPECTED_PASSED) + 1


@pytest.mark.sandbox
def test_regrading_one_student_leaves_the_others_untouched(graded, capsys):
    course, db = graded["course"], graded["db"]
    before = _scores(db)
    fixed = course / "submitted" / "s12" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nbformat.write(_notebook(STRONG), fixed)
    assert main(["--course", str(course), "autograde", ASSIGNMENT, "--student", "s12"]) == 0
    after = _scores(db)
    assert after["s12"][0] == 5.0
    assert {s: v for s, v in after.items() if s != "s12"} == {s: v for s, v in before.items() if s != "s12"}
    assert len(after) == len(CLASS), "a regrade replaces the student's grade, never adds a submission"
    assert main(["--course", str(course), "autograde", ASSIGNMENT, "--student", "nobody"]) == 1
    assert _scores(db) == after
    printed = capsys.readouterr()
    assert "--student names no submission" in printed.out + printed.err
