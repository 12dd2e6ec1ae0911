"""`movierec validate`: the student's check, in the grading sandbox (issue #21)."""

from pathlib import Path

import pytest

from movierec_instructor.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def test_validate_a_correct_a_wrong_and_a_blank_notebook(
    tmp_path: Path, capsys, student_copy, wrong_most_rated
):
    right, wrong, blank = (tmp_path / k for k in ("right", "wrong", "blank"))
    for folder in (right, wrong, blank):
        folder.mkdir()
    assert main(["validate", str(student_copy(right))]) == 0
    out = capsys.readouterr().out
    assert "total: 3 of 3 visible points; 1 more from hidden checks when graded" in out
    assert "ready to hand in" in out and "FAILED" not in out
    assert main(["validate", str(student_copy(wrong, replace={"most_rated": wrong_most_rated}))]) == 1
    assert "✗ the 10 most rated movies, most rated first" in capsys.readouterr().out
    assert main(["validate", str(student_copy(blank, answers=False))]) == 1
    out = capsys.readouterr().out
    assert "exercise most_rated (under " in out and "is not written yet" in out
    assert "\\n" not in out and out.count("\n") >= 4, "one line per line, no literal \\n"
