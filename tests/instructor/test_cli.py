from pathlib import Path

import nbformat

from movierec_instructor.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_sample_class_writes_a_solved_and_a_blank_submission(tmp_path, capsys):
    for folder in ("solutions", "notebooks"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    assert main(["--course", str(tmp_path), "sample-class", "02_matrix_factorization"]) == 0
    alice = nbformat.read(tmp_path / "submitted/alice/02_matrix_factorization/02_matrix_factorization.ipynb", 4)
    bob = nbformat.read(tmp_path / "submitted/bob/02_matrix_factorization/02_matrix_factorization.ipynb", 4)
    assert any("### BEGIN SOLUTION" in c.source for c in alice.cells)
    assert not any(c.get("outputs") for c in alice.cells if c.cell_type == "code"), "no stored outputs"
    assert any("raise NotImplementedError()" in c.source for c in bob.cells)
    assert "wrote submitted/alice" in capsys.readouterr().out
