"""What instructors learn from grading (issue #26): per-check statistics, regrading one
student, deadlines with a late policy and extensions.

A planted class of 12 is graded for real (nbgrader, sandbox): strong students fail only a
check that is wrong on purpose (it expects x**2 from "scale by 2"), most students fail a
zero-side check, and a hidden check nobody fails. A second class of six hands in full
answers at different times through a Canvas download.
"""

import csv
import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from movierec_instructor.cli import main
from movierec_instructor.grading import autograde as grading
from movierec_instructor.grading.late_policy import CourseLatePolicy, DeadlineError, Policy, describe, load
from tests.toy_course import hand_in, toy_course

ASSIGNMENT = "planted"
ROOT = Path(__file__).resolve().parents[3]
SETUP = "from movierec_helpers.exercises import PartialCredit"
SOLUTION = """def area(w, h):
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
    assert scale(3) == 9, "scale(3) should be 9"  # wrong on purpose: the planted bad check
checks.score"""
DOUBLE_TESTS = """checks = PartialCredit(points=2)
with checks.check(1, "doubles"):
    assert double(3) == 6, "double(3) is 6"
with checks.check(1, "doubles negatives"):
    assert double(-3) == -6, "double(-3) is -6"
checks.score"""
CELLS = [
    ("setup", SETUP, None),
    ("answers", SOLUTION, None),
    ("area_tests", AREA_TESTS, 3),
    ("scale_tests", SCALE_TESTS, 1),
    ("double_tests", DOUBLE_TESTS, 2),
]
STRONG = {"area": "w * h", "scale": "2 * x", "double": "2 * x"}
WEAK = {"area": "w * h if w else 1", "scale": "x ** 2", "double": "abs(2 * x)"}
WEAKEST = {"area": "w + h", "scale": "x ** 2", "double": "x + 2"}
CLASS = {
    **{f"s{i:02d}": STRONG for i in range(1, 5)},
    **{f"s{i:02d}": WEAK for i in range(5, 12)},
    "s12": WEAKEST,
}
EXPECTED_PASSED = {
    "multiplies width by height": 11,
    "a zero side gives area 0": 4,
    "a hidden check: returns a number": 12,
    "scales by two": 8,
    "doubles": 11,
    "doubles negatives": 4,
}


def _notebook(answers=None):
    cells = []
    for grade_id, source, points in CELLS:
        if grade_id == "answers" and answers is not None:
            source = "\n\n".join(
                f"def {name}({'w, h' if name == 'area' else 'x'}):\n    return {body}"
                for name, body in answers.items()
            )
        cell = new_code_cell(source)
        meta = {
            "schema_version": 3,
            "grade_id": grade_id,
            "locked": grade_id != "answers",
            "solution": grade_id == "answers",
            "grade": points is not None,
        }
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "movierec",
        "display_name": "Python 3 (movierec)",
        "language": "python",
    }
    return nb


def _scores(db):
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        return {s.student_id: (s.score, str(s.timestamp)) for s in gb.assignment_submissions(ASSIGNMENT)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("stats")
    db = toy_course(course, ASSIGNMENT, _notebook())
    class_ = {student: _notebook(answers) for student, answers in CLASS.items()}
    hand_in(course, ASSIGNMENT, class_, timestamp="2026-11-30 12:00:00.000000 UTC")
    findings = grading.autograde(course, ASSIGNMENT, jobs=2, db=db)
    return {"course": course, "db": db, "findings": findings, "scores": _scores(db)}


@pytest.mark.sandbox
def test_the_planted_class_is_graded_exactly(graded):
    totals = {s: score for s, (score, _) in graded["scores"].items()}
    assert totals == {
        **{f"s{i:02d}": 5.0 for i in range(1, 5)},
        **{f"s{i:02d}": 4.0 for i in range(5, 12)},
        "s12": 2.0,
    }


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
    assert (
        rows["scales by two"]["discrimination"]
        < -0.5
        < 0
        < rows["a zero side gives area 0"]["discrimination"]
    )
    assert rows["a zero side gives area 0"]["failures"][0] == ["a zero side gives area 0", 8]
    assert rows["a zero side gives area 0"]["mean_points"] == pytest.approx(
        4 / 12, abs=1e-4
    )  # rounded to 4 places
    assert "look at: scale_tests / scales by two: failed mostly by strong students" in printed
    html = (course / f"stats-{ASSIGNMENT}.html").read_text()
    specs = [
        json.loads(s.replace("<\\/", "</"))
        for s in re.findall(
            r'<script type="application/vnd.vegalite\+json"[^>]*>(.*?)</script>', html, flags=re.S
        )
    ]
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


# ---------------------------------------------------------------- deadlines

FULL_MARKS = {"area": "w * h", "scale": "x ** 2", "double": "2 * x"}  # 6 of 6 (the planted check included)
DEADLINES = """timezone = "UTC"
[late_policy]
penalty_percent = 10
per = "day"
grace_minutes = 15
max_penalty_percent = 30
[due]
planted = 2026-12-01T23:59:00+00:00
"""
# student -> (Canvas user id, file time in the zip (UTC), marked _LATE_ by Canvas, expected score)
HANDED_IN = {
    "on_time": (101, (2026, 12, 1, 23, 0, 0), False, 6.0),
    "in_grace": (102, (2026, 12, 2, 0, 10, 0), True, 6.0),
    "late": (103, (2026, 12, 3, 1, 59, 0), True, 4.8),  # 26 h: 2 days started, -20%
    "extended": (104, (2026, 12, 3, 1, 59, 0), True, 6.0),  # 48 h extension
    "six_hours": (105, (2026, 12, 2, 5, 59, 0), True, 5.4),  # 1 day started, -10%
    "capped": (
        106,
        (2026, 12, 10, 0, 0, 0),
        True,
        4.2,
    ),  # 8 days and a minute: 9 started, -90%, capped at -30%
}


def test_policy_grace_units_and_cap():
    policy = Policy(penalty_percent=10, per="day", grace_minutes=15, max_penalty_percent=30)
    assert policy.percent(0) == 0 and policy.percent(15 * 60) == 0
    assert policy.percent(15 * 60 + 1) == 10, "past the grace period the lateness counts from the due date"
    assert policy.percent(26 * 3600) == 20 and policy.percent(9 * 86400) == 30
    assert Policy(5, "hour").percent(26 * 3600) == 100, "per hour, capped at 100% by default"
    assert describe(26 * 3600, 20) == "submitted 26 h late: -20%"
    assert describe(600, 0) == "submitted 10 min late: within the grace period"


def test_bad_deadline_files_name_the_line_and_the_fix(tmp_path):
    (tmp_path / "deadlines.toml").write_text('[due]\nplanted = "2026-12-01 23:59"\n')
    with pytest.raises(DeadlineError, match="has no time zone; write it like 2026-12-01T23:59:00"):
        load(tmp_path)
    (tmp_path / "deadlines.toml").write_text('[late_policy]\nper = "week"\n')
    with pytest.raises(DeadlineError, match="use 'hour' or 'day'"):
        load(tmp_path)
    (tmp_path / "deadlines.toml").write_text(DEADLINES)
    (tmp_path / "extensions.csv").write_text("student,assignment,extra_hours,due,note\nalice,other,48,,\n")
    with pytest.raises(DeadlineError, match="line 2: 'other' has no due date"):
        load(tmp_path)
    (tmp_path / "extensions.csv").write_text("student,assignment,extra_hours,due,note\nalice,planted,,,\n")
    with pytest.raises(DeadlineError, match="give extra_hours or a new due date"):
        load(tmp_path)
    (tmp_path / "extensions.csv").write_text(
        "student,assignment,extra_hours,due,note\nalice,planted,,2026-12-03T23:59:00+00:00,illness\n"
    )
    assert load(tmp_path).extensions[("alice", "planted")] == (2 * 86400.0, "illness")


def test_the_plugin_subtracts_extensions(tmp_path, monkeypatch):
    (tmp_path / "deadlines.toml").write_text(DEADLINES)
    (tmp_path / "extensions.csv").write_text("student,assignment,extra_hours,due,note\nalice,planted,24,,\n")
    monkeypatch.chdir(tmp_path)

    from traitlets.config import Configurable

    class Step(Configurable):  # nbgrader's AssignLatePenalties, the plugin's parent, knows the assignment
        assignment_id = "planted"

    plugin = CourseLatePolicy(parent=Step())
    assert plugin.late_submission_penalty("bob", 6.0, 26 * 3600) == pytest.approx(1.2)
    assert plugin.late_submission_penalty("alice", 6.0, 26 * 3600) == pytest.approx(0.6), (
        "2 h late after 24 h extra"
    )


@pytest.fixture(scope="module")
def late_class(tmp_path_factory):
    course = tmp_path_factory.mktemp("deadlines")
    extensions = "student,assignment,extra_hours,due,note\nextended,planted,48,,accommodation\n"
    toy_course(
        course, ASSIGNMENT, _notebook(), files={"deadlines.toml": DEADLINES, "extensions.csv": extensions}
    )
    with open(course / "ids.csv", "w") as fh:
        fh.write("lms_id,student_id\n" + "".join(f"{lms},{s}\n" for s, (lms, *_) in HANDED_IN.items()))
    archive = course / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student, (lms, when, late, _) in HANDED_IN.items():
            name = (
                f"{student.replace('_', '')}{'_LATE' if late else ''}_{lms}_{5000 + lms}_{ASSIGNMENT}.ipynb"
            )
            zf.writestr(zipfile.ZipInfo(name, date_time=when), nbformat.writes(_notebook(FULL_MARKS)))
    args = ["--course", str(course)]
    assert (
        main(
            [
                *args,
                "collect",
                ASSIGNMENT,
                str(archive),
                "--from",
                "canvas",
                "--mapping",
                str(course / "ids.csv"),
            ]
        )
        == 0
    )
    assert main([*args, "autograde", ASSIGNMENT, "--jobs", "2"]) == 0
    assert main([*args, "feedback", ASSIGNMENT]) == 0
    assert (
        main(
            [
                *args,
                "export",
                "--to",
                "canvas.csv",
                "--format",
                "canvas",
                "--mapping",
                str(course / "ids.csv"),
            ]
        )
        == 0
    )
    assert main([*args, "export", "--to", "moodle.csv", "--format", "moodle"]) == 0
    assert main([*args, "export", "--to", "grades.csv"]) == 0
    return course


@pytest.mark.sandbox
def test_late_penalties_reach_the_exports_exactly(late_class):
    expected = {s: c[3] for s, c in HANDED_IN.items()}
    rows = list(csv.reader(open(late_class / "canvas.csv")))
    assert {r[2]: float(r[rows[0].index(ASSIGNMENT)]) for r in rows[2:]} == expected
    assert {r[0]: float(r[1]) for r in list(csv.reader(open(late_class / "moodle.csv")))[1:]} == expected
    grades = {r["student_id"]: r for r in csv.DictReader(open(late_class / "grades.csv"))}
    assert {s: float(r["score"]) for s, r in grades.items()} == expected
    assert {s: float(r["raw_score"]) for s, r in grades.items()} == {s: 6.0 for s in HANDED_IN}
    assert float(grades["late"]["late_submission_penalty"]) == pytest.approx(1.2)
    assert grades["late"]["timestamp"].startswith("2026-12-03 01:59:00")
    assert grades["late"]["duedate"].startswith("2026-12-01 23:59:00")


@pytest.mark.sandbox
def test_feedback_and_report_say_how_late(late_class):
    page = (late_class / "feedback" / "late" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "submitted 26 h late: -20% (-1.2 point(s); due 2026-12-01 23:59 UTC)" in page
    on_time = (late_class / "feedback" / "on_time" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "late:" not in on_time
    grace = (late_class / "feedback" / "in_grace" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "submitted 11 min late: within the grace period" in grace
    report = {r["student"]: r for r in csv.DictReader(open(late_class / f"grading-report-{ASSIGNMENT}.csv"))}
    assert report["capped"]["problem"] == "submitted 192 h late: -30%"
    assert report["extended"]["problem"] == "on time (extension 48 h: accommodation)"
    assert report["late"]["action"] == "late penalty 1.2 point(s) of 6"
    assert "on_time" not in report


def test_canvas_late_mark_on_a_file_time_before_the_due_date_is_reported(tmp_path):
    from movierec_instructor.lms.collect import collect

    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(_notebook(), tmp_path / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (tmp_path / "deadlines.toml").write_text(DEADLINES)
    archive = tmp_path / "dl.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            zipfile.ZipInfo(f"ann_LATE_7_70_{ASSIGNMENT}.ipynb", date_time=(2026, 12, 1, 12, 0, 0)), "{}"
        )
    findings = collect(tmp_path, ASSIGNMENT, archive, fmt="canvas")
    assert any("Canvas marks" in f.problem and "not after the due date" in f.problem for f in findings)
    stamp = (tmp_path / "submitted" / "7" / ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp == "2026-12-01 12:00:00.000000 UTC"
    assert dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f UTC") < dt.datetime(2026, 12, 1, 23, 59)
