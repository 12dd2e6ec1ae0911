"""Collecting LMS downloads: every student under the right id, whatever the underscores."""

import zipfile
from pathlib import Path

import pytest

from movierec_instructor.lms.collect import CollectError, collect

ROOT = Path(__file__).resolve().parents[3]
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
    return {
        p.parent.parent.name: p.read_text() for p in (course / "submitted").glob(f"*/{ASSIGNMENT}/*.ipynb")
    }


def test_plain_names_split_at_the_notebook_name(course):
    archive = _zip(
        course / "d.zip",
        {
            f"alice_{NOTEBOOK}": "a",
            f"bob_smith_2_{NOTEBOOK}": "b",
            f"downloads/carol_{NOTEBOOK}": "c",
            "random.ipynb": "?",
        },
    )
    findings = collect(course, ASSIGNMENT, archive, fmt="plain")
    assert _submitted(course) == {"alice": "a", "bob_smith_2": "b", "carol": "c"}
    assert any("random.ipynb" in f.problem and f.action == "not collected" for f in findings)


def test_canvas_ids_mapping_and_latest_resubmission(course):
    mapping = course / "ids.csv"
    mapping.write_text("lms_id,student_id\n12345,john_doe\n22222,jane_smith\n")
    archive = _zip(
        course / "canvas.zip",
        {
            f"doejohn_12345_678901_{NOTEBOOK}": "first",
            f"doejohn_12345_678950_{ASSIGNMENT}-1.ipynb": "second",
            f"smithjane_LATE_22222_678999_{NOTEBOOK}": "late",
            f"leeann_33333_679000_{NOTEBOOK}": "unmapped",
        },
    )
    findings = collect(course, ASSIGNMENT, archive, fmt="canvas", mapping=mapping)
    assert _submitted(course) == {"john_doe": "second", "jane_smith": "late", "33333": "unmapped"}
    resubmitted = [f for f in findings if "more than once" in f.problem]
    assert [f.student for f in resubmitted] == ["john_doe"]
    assert "678950" in resubmitted[0].action and "678901" in resubmitted[0].action
    assert any("33333 is not in" in f.problem for f in findings)


def test_moodle_folders_and_flat_files(course):
    mapping = course / "ids.csv"
    mapping.write_text("lms_id,student_id\n501,ann_lee\n502,bo_chen\n")
    archive = _zip(
        course / "moodle.zip",
        {
            f"Ann Lee_501_assignsubmission_file_/{NOTEBOOK}": "ann",
            f"Bo Chen_502_assignsubmission_file_{NOTEBOOK}": "bo-old",
            f"Bo Chen_502_assignsubmission_file_/{NOTEBOOK}": "bo-new",
        },
    )
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


def test_a_new_lms_preset_is_one_registry_entry_for_collect_and_export(course):
    """Registered once, the preset collects its download and exports its gradebook file."""
    import csv
    import re

    from nbgrader.api import Gradebook

    from movierec_instructor.cli import main
    from movierec_instructor.lms.export import export_lms
    from movierec_instructor.lms.presets import PRESETS, LmsPreset, register, write_csv

    def parse(member, notebooks):  # Brightspace-like: "<orgid> - <Name> - <file>"
        match = re.match(r"^(?P<id>\d+) - [^/]* - (?P<file>[^/]+\.ipynb)$", Path(member).name)
        return (match["id"], match["file"], 0) if match and match["file"] in notebooks else None

    def write(table, out, lms_ids):
        return write_csv(
            out,
            ["OrgDefinedId", *[f"{a} Points Grade" for a in table.assignments]],
            (
                [f"#{s}", *[f"{table.scores[s][a]:g}" for a in table.assignments]]
                for s in sorted(table.scores)
            ),
        )

    register(LmsPreset("brightspace", parse, write))
    try:
        archive = _zip(
            course / "d2l.zip", {f"7001 - Ann Lee - {NOTEBOOK}": "ann", f"Ann Lee {NOTEBOOK}": "?"}
        )
        findings = collect(course, ASSIGNMENT, archive, fmt="brightspace")
        assert _submitted(course) == {"7001": "ann"}
        assert any(f.action == "not collected" and "brightspace form" in f.problem for f in findings)
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            gb.add_assignment(ASSIGNMENT)
            gb.add_student("7001")
            gb.add_submission(ASSIGNMENT, "7001")
        out = export_lms(course, course / "grades.csv", "brightspace")
        rows = list(csv.reader(open(out)))
        assert rows == [["OrgDefinedId", f"{ASSIGNMENT} Points Grade"], ["#7001", "0"]]
        assert (
            main(["--course", str(course), "export", "--format", "brightspace", "--to", "again.csv"]) == 0
        ), "the command line knows a preset registered before it parses"
    finally:
        PRESETS.pop("brightspace")


def test_unknown_formats_name_the_known_ones(course):
    from movierec_instructor.lms.export import export_lms
    from movierec_instructor.lms.presets import UnknownPreset

    with pytest.raises(UnknownPreset, match="choose one of plain, canvas, moodle, csv"):
        export_lms(course, course / "x.csv", "blackboard")
    with pytest.raises(CollectError, match="choose one of plain, canvas, moodle"):
        collect(course, ASSIGNMENT, _zip(course / "d.zip", {}), fmt="blackboard")
    assert export_lms(course, course / "n.csv", "csv").exists(), (
        "csv is nbgrader's export, not an unknown format"
    )
