"""The student hand-out: no answers that are not due, and the course still runs."""

from pathlib import Path

import nbformat
import pytest

from movierec_instructor import course
from movierec_instructor.cli import main
from movierec_instructor.course.handout import HandoutWouldNotRun, build_handout, strip_answers
from movierec_instructor.integrity.similarity import MARKERS

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout") / "movierec"
    assert (
        main(
            [
                "--course",
                str(ROOT),
                "handout",
                str(out),
                "--through",
                "02_matrix_factorization",
                "--due",
                "01_exploring_movielens",
            ]
        )
        == 0
    )
    return out


def _all_text(folder: Path) -> str:
    return "\n".join(
        p.read_text(errors="ignore") for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".gz")
    )


def test_handout_holds_no_answers_and_no_instructor_code(handout):
    text = _all_text(handout)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert not (handout / "solutions").exists() and not (handout / "instructor").exists()
    assert not (handout / "benchmarks").exists()
    assert "from movierec_instructor" not in text and "import movierec_instructor" not in text
    assert sorted(p.name for p in (handout / "notebooks").iterdir()) == [
        "01_exploring_movielens",
        "02_matrix_factorization",
    ]
    assert "./instructor" not in (handout / "environment.yml").read_text()


def test_answers_not_yet_due_are_withheld(handout):
    losses = (handout / "movierec_helpers/models/tensorflow/losses.py").read_text()
    assert "tf.sparse.reorder" not in losses, "Notebook 02's sparse tensor answer"
    assert "tf.matmul(user_embeddings, user_embeddings, transpose_a=True)" not in losses, (
        "notebook 04's gravity"
    )
    assert "answers an exercise of 02_matrix_factorization" in losses
    scores = (handout / "movierec_helpers/evaluation/scores.py").read_text()
    assert "_unit_rows(items) @" not in scores, "notebook 03's cosine answer"
    assert "def _unit_rows" in scores, "helpers that answer nothing stay"


def test_strip_answers_keeps_signature_and_docstring():
    source = (
        '@reference_solution("ex_f")\ndef f(x):\n    """Doc."""\n    y = x + 1\n    return y\n\n\n'
        'class N:\n    @reference_solution("ex_g", "ex_h")\n    def __call__(self):\n        return 2\n\n\n'
        "def g():\n    return 1\n"
    )
    new, names = strip_answers(source, {"ex_f": "02_x", "ex_h": "05_y"})
    assert names == ["__call__", "f"]
    assert "        raise NotImplementedError('__call__ answers an exercise of 05_y" in new
    assert '    """Doc."""\n    raise NotImplementedError(' in new and "y = x + 1" not in new
    assert "def g():\n    return 1" in new
    compile(new, "m.py", "exec")


def _run_with_own_answers(handout: Path, name: str, tmp_path: Path) -> list:
    """Runs a handed-out notebook, its exercises filled with correct answers; returns its errors."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(course.notebook_path(ROOT, name), as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(handout / "notebooks" / name / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = MARKERS.sub("", answers[grade_id])
    nb.cells.insert(
        0,
        nbformat.v4.new_code_cell(
            f"import movierec_helpers\nassert movierec_helpers.__file__.startswith({str(handout)!r}), "
            "movierec_helpers.__file__"
        ),
    )
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    executed, _ = course.execute_notebook(
        path, env={"PYTHONPATH": str(handout), "NBGRADER_EXECUTION": "autograde"}
    )
    return [
        f"{name} cell {i}: {o.ename}: {o.evalue[:200]}"
        for i, c in enumerate(executed.cells)
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]


def test_handout_notebook_runs_with_a_students_correct_answers(handout, tmp_path):
    assert _run_with_own_answers(handout, "02_matrix_factorization", tmp_path) == []


# What each --due withholds that a later notebook uses (the hand-out refuses those), per issue #21.
NEEDED_BY_LATER_NOTEBOOKS = {
    "01_exploring_movielens": [
        "03_inspecting_embeddings cell 4 uses build_model",
        "04_regularization cells 6, 23 use build_rating_sparse_tensor",
        "04_regularization cell 11 uses compute_scores",
        "08_scoring cell 3 uses build_regularized_model",
    ],
    "02_matrix_factorization": [
        "04_regularization cell 11 uses compute_scores",
        "05_softmax_model cell 16 uses compute_scores",
        "08_scoring cell 3 uses build_regularized_model (an answer of 04_regularization)",
    ],
    "03_inspecting_embeddings": [
        "08_scoring cell 3 uses build_regularized_model (an answer of 04_regularization)",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("due", course.assignments(ROOT, "tensorflow")[:-1])
def test_every_handout_through_the_last_notebook_refuses_or_runs(due, tmp_path):
    """Either the hand-out names what its notebooks would miss, or every notebook after --due runs.

    A hand-out that runs with --due D withholds a superset of what a later --due withholds,
    so notebooks are run for the smallest --due that is accepted (and 02's test above).
    """
    order = course.assignments(ROOT, "tensorflow")
    out = tmp_path / "handout"
    if due in NEEDED_BY_LATER_NOTEBOOKS:
        with pytest.raises(HandoutWouldNotRun) as refused:
            build_handout(ROOT, out, through=order[-1], due=due)
        for need in NEEDED_BY_LATER_NOTEBOOKS[due]:
            assert need in str(refused.value)
        assert "Hand out with --due " in str(refused.value)
        assert not out.exists(), "nothing written"
        return
    build_handout(ROOT, out, through=order[-1], due=due)
    if due != min((d for d in order[:-1] if d not in NEEDED_BY_LATER_NOTEBOOKS), key=order.index):
        return
    errors = []
    for name in order[order.index(due) + 1 :]:
        errors += _run_with_own_answers(out, name, tmp_path)
    assert errors == []


def test_handout_refuses_unknown_assignment_and_a_used_folder(tmp_path):
    with pytest.raises(ValueError, match="Unknown assignment '99_x'"):
        build_handout(ROOT, tmp_path / "a", through="99_x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "file").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        build_handout(ROOT, tmp_path / "b", through="01_exploring_movielens")


@pytest.mark.slow
def test_a_pytorch_handout_holds_that_track_and_installs_it(tmp_path):
    refused = tmp_path / "refused"
    with pytest.raises(HandoutWouldNotRun) as why:
        build_handout(
            ROOT,
            refused,
            through="04_regularization_torch",
            due="02_matrix_factorization_torch",
            track="pytorch",
        )
    assert (
        "04_regularization_torch cell 11 uses compute_scores (an answer of 03_inspecting_embeddings_torch)"
        in str(why.value)
    )
    assert "Hand out with --due 03_inspecting_embeddings_torch" in str(why.value)
    out = tmp_path / "handout"
    assert (
        main(
            [
                "--course",
                str(ROOT),
                "handout",
                str(out),
                "--through",
                "04_regularization_torch",
                "--due",
                "03_inspecting_embeddings_torch",
                "--track",
                "pytorch",
            ]
        )
        == 0
    )
    pytorch = course.assignments(ROOT, "pytorch")
    assert (
        sorted(p.name for p in (out / "notebooks").iterdir())
        == pytorch[: pytorch.index("04_regularization_torch") + 1]
    )
    assert course.course_tracks(out) == ["pytorch"], "the hand-out's make lab installs the PyTorch track"
    torch_losses = (out / "movierec_helpers/models/torch/losses.py").read_text()
    assert "(movie_embeddings.T @ movie_embeddings)" not in torch_losses, "notebook 04's gravity is withheld"
    assert "answers an exercise of 04_regularization_torch" in torch_losses


@pytest.mark.slow
def test_a_pytorch_handout_runs_the_shared_retrieval_and_reranking_notebooks(tmp_path):
    """07 and 09 (shared) fit notebook 04's objective with the NumPy ALS: they run with the student's own
    answers in a PyTorch hand-out (through the last notebook; 08_scoring_torch needs 04's answers due)."""
    pytorch = course.assignments(ROOT, "pytorch")
    order = [pytorch.index(name) for name in ("04_regularization_torch", "07_retrieval", "09_reranking")]
    assert order == sorted(order)
    out = tmp_path / "handout"
    build_handout(ROOT, out, through=pytorch[-1], due="04_regularization_torch", track="pytorch")
    shipped = sorted(p.name for p in (out / "notebooks").iterdir())
    assert "07_retrieval" in shipped and "09_reranking" in shipped
    assert not [name for name in shipped if course.track_of(ROOT, name) == "tensorflow"]
    errors = []
    for name in ("07_retrieval", "09_reranking"):
        errors += _run_with_own_answers(out, name, tmp_path)
    assert errors == []
    assert _run_with_own_answers(out, "04_regularization_torch", tmp_path) == []
    with pytest.raises(
        ValueError, match="the pytorch track has 01_exploring_movielens, 02_matrix_factorization_torch"
    ):
        build_handout(ROOT, tmp_path / "other", through="05_softmax_model", track="pytorch")
