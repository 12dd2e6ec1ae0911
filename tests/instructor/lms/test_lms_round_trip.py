"""A class through the whole round trip: Canvas zip -> collect -> autograde -> feedback -> export."""

import csv
import zipfile
from pathlib import Path

import nbformat
import pytest

from movierec_instructor.cli import main
from tests.toy_course import linked_course

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]
ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT = "01_exploring_movielens"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
# most_rated sorted without the movie_id tie-break: the visible check passes, the hidden one fails.
PARTIAL = (
    "def most_rated(ratings, movies, n=10):\n"
    '    stats = ratings.groupby("movie_id")["rating"].agg(["count", "mean"]).reset_index()\n'
    '    stats = stats.rename(columns={"count": "rating count", "mean": "rating mean"})\n'
    '    table = stats.merge(movies[["movie_id", "title"]], on="movie_id")\n'
    '    table = table.sort_values(["rating count", "movie_id"], ascending=[False, False])\n'
    '    return table[["title", "rating count", "rating mean"]].head(n).reset_index(drop=True)\n'
)


def _notebook(kind: str) -> str:
    source = ROOT / ("notebooks" if kind == "blank" else "solutions") / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if kind == "partial" and cell.metadata.get("nbgrader", {}).get("grade_id") == "most_rated":
                cell.source = PARTIAL
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    course = linked_course(tmp_path_factory.mktemp("canvas_course"))
    (course / "ids.csv").write_text("lms_id,student_id\n1001,john_doe\n1002,jane_smith_2\n1003,bo_chen\n")
    with zipfile.ZipFile(course / "submissions.zip", "w") as zf:
        zf.writestr(f"doejohn_1001_5001_{NOTEBOOK}", _notebook("solution"))
        zf.writestr(f"smithjane_LATE_1002_5002_{NOTEBOOK}", _notebook("blank"))
        zf.writestr(f"chenbo_1003_5003_{NOTEBOOK}", _notebook("blank"))
        zf.writestr(f"chenbo_1003_5010_{ASSIGNMENT}-1.ipynb", _notebook("partial"))  # the resubmission
    args = ["--course", str(course)]
    assert (
        main(
            [
                *args,
                "collect",
                ASSIGNMENT,
                str(course / "submissions.zip"),
                "--from",
                "canvas",
                "--mapping",
                str(course / "ids.csv"),
            ]
        )
        == 0
    )
    assert main([*args, "autograde", ASSIGNMENT]) == 0
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
    return course


def test_every_student_under_the_right_id_with_exact_partial_scores(round_trip):
    rows = list(csv.reader(open(round_trip / "canvas.csv")))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0] == "Points Possible"
    scores = {r[2]: (r[1], float(r[rows[0].index(ASSIGNMENT)])) for r in rows[2:]}
    assert scores == {"john_doe": ("1001", 4.0), "jane_smith_2": ("1002", 0.0), "bo_chen": ("1003", 3.0)}
    moodle = {r[0]: float(r[1]) for r in list(csv.reader(open(round_trip / "moodle.csv")))[1:]}
    assert moodle == {"john_doe": 4.0, "jane_smith_2": 0.0, "bo_chen": 3.0}


def test_the_reports_say_what_happened(round_trip):
    collected = list(csv.DictReader(open(round_trip / f"collect-report-{ASSIGNMENT}-submissions.csv")))
    assert any(
        r["student"] == "bo_chen" and "5010" in r["action"] and "more than once" in r["problem"]
        for r in collected
    ), "the latest resubmission wins, and the report says so"
    page = (round_trip / "feedback" / "bo_chen" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    # The visible check says what is wrong; the failed hidden check names its requirement after
    # grading, never its inputs or code.
    assert "✗ ties broken by movie_id; n larger than the number of movies (0 of 0.5)" in page
    assert "ties in count must be broken by movie_id" in page
    assert "✗ a hidden check: the same on another table: ties, counts and means (0 of 0.5)" in page
    assert "other_movies" not in page and "rating&quot;: [2.0, 4.0" not in page
    assert (round_trip / f"similarity-{ASSIGNMENT}.csv").exists()
