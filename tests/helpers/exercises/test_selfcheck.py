"""A student's check before handing in (`python -m movierec_helpers.check`), and `movierec validate`."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from movierec_helpers.exercises import PartialCredit
from movierec_helpers.exercises.explain import explain_failure
from movierec_helpers.exercises.selfcheck import (
    find_release,
    locate,
    read_test_cell,
    static_problems,
    unwritten_exercises,
    written_answers,
)

RELEASE = Path(__file__).resolve().parents[3] / "notebooks"

pytestmark = pytest.mark.slow


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "movierec_helpers.check", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_correct_notebook_is_ready_with_hidden_points_pending(tmp_path, student_copy):
    done = _check(student_copy(tmp_path))
    assert done.returncode == 0, done.stdout
    assert (
        "most_rated_tests: 1.5 of 1.5 visible points; 0.5 more from hidden checks when graded" in done.stdout
    )
    assert "total: 3 of 3 visible points; 1 more from hidden checks when graded" in done.stdout
    assert "ready to hand in" in done.stdout
    assert done.stderr == "", "no kernel log on the student's terminal"


def test_a_wrong_answer_fails_naming_the_check(tmp_path, student_copy, wrong_most_rated):
    done = _check(student_copy(tmp_path, replace={"most_rated": wrong_most_rated}))
    assert done.returncode == 1
    assert "most_rated_tests: 0 of 1.5 visible points" in done.stdout
    assert "! most_rated_tests: ✗ the 10 most rated movies, most rated first" in done.stdout


def test_a_blank_notebook_names_the_exercises_not_written(tmp_path, student_copy):
    done = _check(student_copy(tmp_path, answers=False))
    assert done.returncode == 1
    assert done.stdout.count("is not written yet: replace `raise NotImplementedError()` with your code") == 2
    assert "! exercise most_rated (under " in done.stdout, "named at the exercise, by its name and heading"
    assert "calls an exercise not written yet" not in done.stdout, "the cells calling it are not blamed"


def test_renamed_notebook_and_edited_test_cell_are_named(tmp_path, student_copy):
    path = student_copy(tmp_path, name="my_copy", replace={"most_rated_tests": "2"})
    nb = nbformat.read(path, as_version=4)
    problems = static_problems(path, nb, find_release(nb))
    assert any("grading expects 01_exploring_movielens.ipynb" in p for p in problems)
    assert any(p.startswith("most_rated_tests (under ") and "was edited" in p for p in problems)


def test_each_track_finds_its_own_release():
    """02 and 02_..._torch share their exercises' ids: the name, then the track, picks the release."""
    root = Path(__file__).resolve().parents[3] / "notebooks"
    for name in ("02_matrix_factorization", "02_matrix_factorization_torch"):
        nb = nbformat.read(root / name / f"{name}.ipynb", as_version=4)
        assert find_release(nb, root, f"{name}.ipynb").name == f"{name}.ipynb"
        assert find_release(nb, root, "renamed.ipynb").name == f"{name}.ipynb", "a renamed copy: by its track"


def test_cells_are_named_by_exercise_and_heading_never_by_number():
    nb = nbformat.read(RELEASE / "07_retrieval" / "07_retrieval.ipynb", as_version=4)
    index = next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "top_k_unseen"
    )
    assert locate(nb, index).startswith('top_k_unseen (under "Exercise 1 (graded)')
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert locate(nb, first_code).startswith("the 1st code cell under ")
    assert [p.split(" (")[0] for p in unwritten_exercises(nb)] == [
        "exercise top_k_unseen",
        "exercise fastest_meeting_recall",
    ]


def test_written_questions_are_listed_with_points_and_flagged_while_unanswered():
    nb = nbformat.read(RELEASE / "08_scoring" / "08_scoring.ipynb", as_version=4)
    (answer,) = written_answers(nb)
    assert (answer.grade_id, answer.points, answer.answered) == ("scoring_answer", 2.0, False)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "scoring_answer")
    cell.source = "Watching is what a home page needs; log positions; a feature store."
    assert written_answers(nb)[0].answered


def test_failure_messages_are_whole_and_plain():
    message = "\x1b[1mtorch.nn.Parameter\x1b[0m(torch.randn(...)) " + "word " * 60 + "MatMul[T=float]"
    (line,) = explain_failure(AssertionError(message))
    assert "\x1b" not in line and line.startswith("torch.nn.Parameter(torch.randn(...))")
    assert line.endswith("MatMul[T=float]"), "not cut"


def test_a_check_that_needs_what_a_failed_check_makes_says_so(capsys):
    checks = PartialCredit(points=2)
    with checks.check(1, "builds the model"):
        raise AssertionError("the embeddings should be [num_users, d]")
        small = 1  # noqa: F841 - never reached, as in a real test cell
    with checks.check(1, "trains"):
        small.train()  # noqa: F821
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith(
        '✗ trains (0 of 1): not checked: it needs `small`, which the failed check "builds the model" makes'
    )


def test_detail_lines_of_a_failed_check_are_kept_with_it():
    cell = nbformat.v4.new_code_cell(
        "checks.score",
        metadata={"nbgrader": {"grade": True, "solution": False, "points": 2, "grade_id": "t"}},
    )
    cell.outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text=("✗ sums (0 of 1): got 3\n    expected 4\n✓ shape (1 of 1)\n")
        )
    ]
    result = read_test_cell(cell, 0)
    assert result.failed == ["✗ sums (0 of 1): got 3\n    expected 4"]
