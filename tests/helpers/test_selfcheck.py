"""A student's check before handing in (`python -m movierec_helpers.check`), and `movierec validate`."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from movierec_helpers.exercises.selfcheck import find_release, static_problems

pytestmark = pytest.mark.slow


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "movierec_helpers.check", str(path)], capture_output=True,
                          text=True, timeout=600)


def test_a_correct_notebook_is_ready_with_hidden_points_pending(tmp_path, student_copy):
    done = _check(student_copy(tmp_path))
    assert done.returncode == 0, done.stdout
    assert "most_rated_tests: 1 of 1 visible point; 1 more from hidden checks when graded" in done.stdout
    assert "total: 2 of 2 visible points; 2 more from hidden checks when graded" in done.stdout
    assert "ready to hand in" in done.stdout
    assert done.stderr == "", "no kernel log on the student's terminal"


def test_a_wrong_answer_fails_naming_the_check(tmp_path, student_copy, wrong_most_rated):
    done = _check(student_copy(tmp_path, replace={"most_rated": wrong_most_rated}))
    assert done.returncode == 1
    assert "most_rated_tests: 0 of 1 visible point" in done.stdout
    assert "! most_rated_tests: ✗ the 10 most rated movies, most rated first" in done.stdout


def test_a_blank_notebook_names_the_exercises_not_written(tmp_path, student_copy):
    done = _check(student_copy(tmp_path, answers=False))
    assert done.returncode == 1
    assert done.stdout.count("is an exercise not written yet") == 2


def test_renamed_notebook_and_edited_test_cell_are_named(tmp_path, student_copy):
    path = student_copy(tmp_path, name="my_copy", replace={"most_rated_tests": "2"})
    nb = nbformat.read(path, as_version=4)
    problems = static_problems(path, nb, find_release(nb))
    assert any("grading expects 01_exploring_movielens.ipynb" in p for p in problems)
    assert any("(most_rated_tests) was edited" in p for p in problems)


def test_each_track_finds_its_own_release():
    """02 and 02_..._torch share their exercises' ids: the name, then the track, picks the release."""
    root = Path(__file__).resolve().parents[2] / "notebooks"
    for name in ("02_matrix_factorization", "02_matrix_factorization_torch"):
        nb = nbformat.read(root / name / f"{name}.ipynb", as_version=4)
        assert find_release(nb, root, f"{name}.ipynb").name == f"{name}.ipynb"
        assert find_release(nb, root, "renamed.ipynb").name == f"{name}.ipynb", "a renamed copy: by its track"
