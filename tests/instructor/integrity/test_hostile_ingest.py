"""Hostile uploads through the whole round trip: collect -> autograde -> feedback -> export.

One Canvas zip and mapping file, one Moodle zip and one plain zip hold a crafted upload per
kind of attack (issue #23) next to honest students, several of whom sort after the hostile
ones (grading order is alphabetical). Asserted: exact scores for the honest students, the
hostile ones 0 (or refused at collection) with their reason in the report, nothing written
outside the course folder, every CSV spreadsheet-safe, no script in any generated page,
every file under its size limit, and the documented exit codes.
"""

import csv
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from movierec_instructor.cli import main
from movierec_instructor.integrity.untrusted import FORMULA_START
from tests.toy_course import linked_course

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]
ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT = "01_exploring_movielens"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
FLOOD_BYTES = 30_000_000  # one line; the per-output limit is 1 MB, the notebook's 10 MB
HOSTILE_HTML = (
    "from IPython.display import HTML, Javascript, display\n"
    "display(HTML('<script>window.pwned = 1</script><img src=x onerror=alert(1)>'))\n"
    "display(Javascript('alert(1)'))\n"
)


def _notebook(kind: str, *, extra_code: str = "", extra_markdown: str = "", edit=None) -> str:
    source = ROOT / ("notebooks" if kind == "blank" else "solutions") / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if extra_code:
        nb.cells.insert(2, nbformat.v4.new_code_cell(extra_code))
    if extra_markdown:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(extra_markdown))
    if edit:
        edit(nb)
    return nbformat.writes(nb, version=4) if edit is None else _raw_json(nb)


def _raw_json(nb) -> str:
    import json

    return json.dumps(nb)  # as a hostile client would write it: no validation on the way out


def _graded_cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _points_as_text(nb):
    _graded_cell(nb, "most_rated_tests").metadata["nbgrader"]["points"] = "all of them"


def _metadata_as_list(nb):
    _graded_cell(nb, "most_rated_tests").metadata["nbgrader"] = ["grade", True]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def hostile_round(tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    course = linked_course(outside / "course")
    (outside / "x").mkdir()  # where "../../x" would land
    before = _tree(outside)
    # Canvas: ids from the mapping file, some of them hostile.
    hostile_ids = {
        "2001": "../../x",
        "2002": "/tmp/abs_target",
        "2003": "../solutions",
        "2004": '=HYPERLINK("http://evil","x")',
        "2005": "eve,999,full",
        "2006": "\x1b[31mred\x07",
        "2007": ".",
        "2008": "..",
    }
    mapping = {
        "1001": "amy",
        "1002": "zed_blank",
        "1003": "meta_points",
        "1004": "meta_list",
        "1005": "nested",
        "1006": "html_user",
        "1007": "flood",
        "1008": "zoe_solution",
        "1009": "bomb",
        **hostile_ids,
    }
    with open(course / "ids.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lms_id", "student_id"])
        writer.writerows(mapping.items())
    uploads = {
        "1001": _notebook("solution"),
        "1002": _notebook("blank"),
        "1003": _notebook("solution", edit=_points_as_text),
        "1004": _notebook("solution", edit=_metadata_as_list),
        "1005": _notebook("solution", extra_code="x = " + "-" * 100_000 + "1"),
        "1006": _notebook(
            "solution",
            extra_code=HOSTILE_HTML,
            extra_markdown="<script>window.pwned = 2</script><img src=x onerror=alert(1)>",
        ),
        "1007": _notebook("solution", extra_code=f"print('y' * {FLOOD_BYTES})"),
        "1008": _notebook("solution"),
        **{lms: _notebook("solution") for lms in hostile_ids},
    }
    with zipfile.ZipFile(course / "canvas.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (lms, text) in enumerate(uploads.items()):
            zf.writestr(f"user{lms}_{lms}_{7000 + i}_{NOTEBOOK}", text)
        zf.writestr(f"bomb_1009_7999_{NOTEBOOK}", b"\0" * (64 * 2**20))  # 64 MiB of zeros: ~64 KB packed
    # Moodle: a full name that claims another student's id.
    with zipfile.ZipFile(course / "moodle.zip", "w") as zf:
        zf.writestr(f"Ann Lee_501_assignsubmission_file_/{NOTEBOOK}", _notebook("solution"))
        zf.writestr(
            f"Eve_501_assignsubmission_file__502_assignsubmission_file_{NOTEBOOK}", _notebook("blank")
        )
    (course / "moodle-ids.csv").write_text("lms_id,student_id\n501,ann_lee\n502,eve_m\n")
    args = ["--course", str(course)]
    codes = {
        "canvas": main(
            [
                *args,
                "collect",
                ASSIGNMENT,
                str(course / "canvas.zip"),
                "--from",
                "canvas",
                "--mapping",
                str(course / "ids.csv"),
            ]
        ),
        "moodle": main(
            [
                *args,
                "collect",
                ASSIGNMENT,
                str(course / "moodle.zip"),
                "--from",
                "moodle",
                "--mapping",
                str(course / "moodle-ids.csv"),
            ]
        ),
    }
    codes["autograde"] = main([*args, "autograde", ASSIGNMENT])
    codes["feedback"] = main([*args, "feedback", ASSIGNMENT])
    codes["export"] = main([*args, "export", "--to", "grades.csv"])
    codes["canvas_export"] = main(
        [*args, "export", "--to", "canvas.csv", "--format", "canvas", "--mapping", str(course / "ids.csv")]
    )
    codes["moodle_export"] = main([*args, "export", "--to", "moodle.csv", "--format", "moodle"])
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
    return {
        "course": course,
        "outside": outside,
        "before": before,
        "codes": codes,
        "scores": scores,
        "hostile_ids": hostile_ids,
    }


def _report(course: Path, name: str) -> list[dict]:
    with open(course / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_exit_codes_as_documented(hostile_round):
    assert hostile_round["codes"] == {k: 0 for k in hostile_round["codes"]}


def test_honest_students_exact_whatever_came_before(hostile_round):
    scores, full = hostile_round["scores"], max(hostile_round["scores"].values())
    assert full > 0
    assert scores["amy"] == full and scores["zoe_solution"] == full and scores["ann_lee"] == full
    assert scores["zed_blank"] == 0 and scores["eve_m"] == 0
    # Hostile outputs in a correct notebook cost nothing, and take nothing.
    assert scores["html_user"] == full and scores["flood"] == full


def test_edited_metadata_and_unparsable_code_fail_only_their_student(hostile_round):
    scores = hostile_round["scores"]
    assert scores["meta_points"] == 0 and scores["meta_list"] == 0 and scores["nested"] == 0
    report = {
        (r["student"], r["problem"])
        for r in _report(hostile_round["course"], f"grading-report-{ASSIGNMENT}.csv")
    }
    assert any(s == "meta_points" and "'points' is 'all of them'" in p for s, p in report)
    assert any(s == "meta_list" and "not a mapping" in p for s, p in report)
    assert any(s == "nested" and "nested too deeply" in p for s, p in report)
    kept = hostile_round["course"] / "submitted" / "meta_points" / ASSIGNMENT / f"{NOTEBOOK}.rejected"
    assert kept.exists(), "the notebook is kept for review"


def test_hostile_ids_refused_and_never_paths(hostile_round):
    course, outside = hostile_round["course"], hostile_round["outside"]
    graded = set(hostile_round["scores"])
    assert not graded & set(hostile_round["hostile_ids"].values())
    created_outside = {p for p in _tree(outside) - hostile_round["before"] if not p.startswith("course")}
    assert created_outside == set(), created_outside
    assert not Path("/tmp/abs_target").exists()
    assert (course / "solutions").is_symlink(), "../solutions did not replace the source"
    rows = _report(course, f"collect-report-{ASSIGNMENT}-canvas.csv")
    refused = [r for r in rows if "is not a usable student id" in r["problem"]]
    assert len(refused) == len(hostile_round["hostile_ids"])
    assert all("\x1b" not in r["problem"] and "\x07" not in r["problem"] for r in rows)
    assert any("\\x1b[31mred\\x07" in r["problem"] for r in refused), "shown escaped"


def test_moodle_name_cannot_claim_another_id(hostile_round):
    course = hostile_round["course"]
    ann = (course / "submitted" / "ann_lee" / ASSIGNMENT / NOTEBOOK).read_text()
    assert "raise NotImplementedError" not in ann, "ann's own (solved) notebook, not the attacker's"
    assert (course / "submitted" / "eve_m" / ASSIGNMENT / NOTEBOOK).exists()


def test_zip_bomb_refused_with_a_report_line(hostile_round):
    course = hostile_round["course"]
    rows = _report(course, f"collect-report-{ASSIGNMENT}-canvas.csv")
    assert any(r["student"] == "bomb" and "zip bomb" in r["problem"] for r in rows)
    assert not (course / "submitted" / "bomb").exists()
    assert not list(course.rglob("*.partial")), "nothing half-written"


def test_every_csv_is_spreadsheet_safe(hostile_round):
    course = hostile_round["course"]
    files = sorted(f for f in course.glob("*.csv") if not f.name.endswith("ids.csv"))  # ours, not the inputs
    assert {f.name for f in files} >= {
        "grades.csv",
        "canvas.csv",
        "moodle.csv",
        f"grading-report-{ASSIGNMENT}.csv",
        f"collect-report-{ASSIGNMENT}-canvas.csv",
        f"similarity-{ASSIGNMENT}.csv",
    }
    for path in files:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        width = len(rows[0])
        for row in rows:
            assert len(row) == width, f"{path.name}: a row with {len(row)} cells, header {width}"
            for cell in row:
                assert not cell.startswith(FORMULA_START), f"{path.name}: formula cell {cell!r}"
    grades = {r["student_id"] for r in _report(course, "grades.csv")}
    assert "999" not in grades and not any("," in g for g in grades), "no forged row"


class _LiveMarkup(HTMLParser):
    """Collects what a browser would run: script elements, event-handler attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.live = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.live.append("<script>")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {name}={value!r}>")


def test_no_script_in_any_generated_page(hostile_round):
    course = hostile_round["course"]
    pages = list(course.glob("feedback/*/*/*.html")) + list(course.glob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parser = _LiveMarkup()
        parser.feed(text)
        assert parser.live == [], f"{page}: {parser.live[:5]}"
        head = text.split("<head", 1)[1][:400]
        assert "Content-Security-Policy" in head and "script-src 'none'" in head, (
            f"{page}: the policy comes first"
        )
    html_user = (course / "feedback" / "html_user" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "pwned" in html_user or "alert" in html_user, (
        "the student's markup is shown (as text), not dropped unseen"
    )


def test_output_flood_cut_and_reported(hostile_round):
    course = hostile_round["course"]
    limit = 12_000_000
    for folder in ("submitted", "autograded", "feedback"):
        for path in (course / folder).rglob("*"):
            if path.is_file() and folder != "submitted":
                assert path.stat().st_size < limit, f"{path} is {path.stat().st_size:,} bytes"
    graded = course / "autograded" / "flood" / ASSIGNMENT / NOTEBOOK
    assert "output cut by the grader" in graded.read_text()
    rows = _report(course, f"grading-report-{ASSIGNMENT}.csv")
    assert any(r["student"] == "flood" and "over the size limit" in r["problem"] for r in rows)


def test_collect_refuses_too_many_entries_and_writes_nothing(tmp_path, monkeypatch):
    (tmp_path / "solutions").symlink_to(ROOT / "solutions")
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for i in range(30):
            zf.writestr(f"s{i}_{NOTEBOOK}", "{}")
    monkeypatch.setenv("MOVIEREC_ZIP_MAX_ENTRIES", "20")
    assert main(["--course", str(tmp_path), "collect", ASSIGNMENT, str(tmp_path / "many.zip")]) == 2
    assert not (tmp_path / "submitted").exists(), "nothing collected"
