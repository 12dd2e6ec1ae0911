"""Collecting LMS downloads: every student under the right id, whatever the underscores."""

import zipfile
from pathlib import Path

import pytest

from movierec_instructor.collect import CollectError, collect

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "02_matrix_factorization"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


@pytest.fixture
def course(tmp_path):
    (tmp_path / "solutions").symlink_to(ROOT / "solutions")
    return tmp_path


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for i, (name, text) in enumerate(members.items()):
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 12, 0, i))
            zf.writestr(info, text)
    return path


def _submitted(course: Path) -> dict[str, str]:
    return {p.parent.parent.name: p.read_text() for p in (course / "submitted").glob(f"*/{ASSIGNMENT}/*.ipynb")}


def test_plain_names_split_at_the_notebook_name(course):
    archive = _zip(course / "d.zip", {f"alice_{NOTEBOOK}": "a", f"bob_smith_2_{NOTEBOOK}": "b",
                                      f"downloads/carol_{NOTEBOOK}": "c", "random.ipynb": "?"})
    findings = collect(course, ASSIGNMENT, archive, fmt="plain")
    assert _submitted(course) == {"alice": "a", "bob_smith_2": "b", "carol": "c"}
    assert any("random.ipynb" in f.problem and f.action == "not collected" for f in findings)


def test_canvas_ids_mapping_and_latest_resubmission(course):
    mapping = course / "ids.csv"
    mapping.write_text("lms_id,student_id\n12345,john_doe\n22222,jane_smith\n")
    archive = _zip(course / "canvas.zip", {
        f"doejohn_12345_678901_{NOTEBOOK}": "first",
        f"doejohn_12345_678950_{ASSIGNMENT}-1.ipynb": "second",
        f"smithjane_LATE_22222_678999_{NOTEBOOK}": "late",
        f"leeann_33333_679000_{NOTEBOOK}": "unmapped",
    })
    findings = collect(course, ASSIGNMENT, archive, fmt="canvas", mapping=mapping)
    assert _submitted(course) == {"john_doe": "second", "jane_smith": "late", "33333": "unmapped"}
    resubmitted = [f for f in findings if "more than once" in f.problem]
    assert [f.student for f in resubmitted] == ["john_doe"]
    assert "678950" in resubmitted[0].action and "678901" in resubmitted[0].action
    assert any("33333 is not in" in f.problem for f in findings)


def test_moodle_folders_and_flat_files(course):
    mapping = course / "ids.csv"
    mapping.write_text("lms_id,student_id\n501,ann_lee\n502,bo_chen\n")
    archive = _zip(course / "moodle.zip", {
        f"Ann Lee_501_assignsubmission_file_/{NOTEBOOK}": "ann",
        f"Bo Chen_502_assignsubmission_file_{NOTEBOOK}": "bo-old",
        f"Bo Chen_502_assignsubmission_file_/{NOTEBOOK}": "bo-new",
    })
    findings = collect(course, ASSIGNMENT, archive, fmt="moodle", mapping=mapping)
    assert _submitted(course) == {"ann_lee": "ann", "bo_chen": "bo-new"}
    assert any(f.student == "bo_chen" and "more than once" in f.problem for f in findings)


def test_unknown_format_and_bad_mapping_are_clear_errors(course):
    archive = _zip(course / "d.zip", {f"alice_{NOTEBOOK}": "a"})
    with pytest.raises(CollectError, match="Unknown download format 'blackboard'"):
        collect(course, ASSIGNMENT, archive, fmt="blackboard")
    bad = course / "ids.csv"
    bad.write_text("user,student\n1,a\n")
    with pytest.raises(CollectError, match="lms_id,student_id"):
        collect(course, ASSIGNMENT, archive, fmt="canvas", mapping=bad)
