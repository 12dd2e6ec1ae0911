from pathlib import Path

import nbformat

from movierec_instructor.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_sample_class_writes_a_solved_and_a_blank_submission(tmp_path, capsys):
    for folder in ("solutions", "notebooks"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    assert main(["--course", str(tmp_path), "sample-class", "02_matrix_factorization"]) == 0
    alice = nbformat.read(
        tmp_path / "submitted/alice/02_matrix_factorization/02_matrix_factorization.ipynb", 4
    )
    bob = nbformat.read(tmp_path / "submitted/bob/02_matrix_factorization/02_matrix_factorization.ipynb", 4)
    assert any("### BEGIN SOLUTION" in c.source for c in alice.cells)
    assert not any(c.get("outputs") for c in alice.cells if c.cell_type == "code"), "no stored outputs"
    assert any("raise NotImplementedError()" in c.source for c in bob.cells)
    assert "wrote submitted/alice" in capsys.readouterr().out


def test_release_generates_the_given_course_not_this_checkout(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01_exploring_movielens").symlink_to(
        ROOT / "solutions" / "01_exploring_movielens"
    )
    (tmp_path / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    assert main(["--course", str(tmp_path), "release"]) == 0
    released = sorted(p.name for p in (tmp_path / "notebooks").iterdir())
    assert released == ["01_exploring_movielens"], "only the course's own assignment"
    text = (tmp_path / "notebooks" / "01_exploring_movielens" / "01_exploring_movielens.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text
