"""Mutation testing of the graded exercises: the operators, the runner, and a fixed sample of
known mutants that the hidden tests must keep killing (the full measure is `make test-strength`)."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from movierec_helpers.exercises.reference import library_answers
from movierec_instructor import course
from movierec_instructor.cli import main
from movierec_instructor.mutation import all_mutants, expression_mutants, library_shortcut_mutants
from movierec_instructor.similarity import import_library
from movierec_instructor.strength import load_equivalents, measure_assignment

ROOT = Path(__file__).resolve().parents[2]

CELL = '''def loss(U, V, labels):
    """Doc."""
    n = 3  # outside the solution: never mutated
    ### BEGIN SOLUTION
    logits = tf.matmul(U, V, transpose_b=True)
    total = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0]
    ### END SOLUTION
'''

# A fixed sample per exercise: the holes the issue found (library shortcuts, the naive
# softmax), and the mutants that survived before the hidden tests were strengthened.
KNOWN = {
    "01_exploring_movielens": {
        "best_rated": ["boolean: True -> False in `table = table.sort_values([\"rating mean\", \"movie_id\"], "
                       "ascending=[False, True])`"],
        "most_rated": ["mean/sum: \"mean\" -> 'sum' in `stats = ratings.groupby(\"movie_id\")[\"rating\"]"
                       ".agg([\"count\", \"mean\"]).reset_index()`"],
    },
    "02_matrix_factorization": {
        "mse_gather": ["library shortcut: the solution -> from movierec_helpers.models.losses import "
                       "sparse_mean_square_error as library_answer; return library_answer(sparse_ratings="
                       "sparse_ratings, user_embeddings=user_embeddings, movie_embeddings=movie_embeddings)"],
        "build_model": ["drop argument: generator.normal([num_users, embedding_dim], stddev=init_stddev) -> "
                        "generator.normal([num_users, embedding_dim]) in `U = tf.Variable(generator.normal("
                        "[num_users, embedding_dim], stddev=init_stddev))`"],
    },
    "03_inspecting_embeddings": {
        "compute_scores": ["off-by-one: 0 -> 1 in `safe = np.where(denominator > 0, denominator, 1.0)`",
                           "off-by-one: 0 -> 1 in `return np.where(denominator > 0, V.dot(u) / safe, 0.0)`"],
    },
    "04_regularization": {
        "regularized_model": [
            "return constant: return sparse_mean_square_error(A_train, U, V) -> return 0.0",
            "swap arguments: sparse_mean_square_error(A_test, U, V) -> sparse_mean_square_error(A_test, V, U) in "
            "`\"test_error_observed\": lambda: sparse_mean_square_error(A_test, U, V)},`"],
    },
    "05_softmax_model": {
        "softmax_loss": ["naive formula: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)"
                         " -> -tf.math.log(tf.gather((tf.exp(logits) / tf.reduce_sum(tf.exp(logits), axis=-1, "
                         "keepdims=True)), labels, batch_dims=1)) in `return tf.reduce_mean(tf.nn.sparse_softmax_"
                         "cross_entropy_with_logits(labels=labels, logits=logits))`"],
        "user_embeddings": ["library shortcut: the solution -> return network(bag_weights=bag_weights)"],
    },
    "06_keras_embeddings": {
        "bias_ranking": ["off-by-one: 0 -> 1 in `table[\"rating count\"] = stats[\"count\"].reindex(range(len(table)))"
                         ".fillna(0).astype(int).to_numpy()`"],
        "deep_model": ["drop argument: keras.layers.Rescaling(1.0, offset=global_mean) -> keras.layers.Rescaling(1.0) "
                       "in `return keras.Model([user_in, movie_in], keras.layers.Rescaling(1.0, offset=global_mean)(x))`"],
    },
}


def _by_key(mutants):
    return {m.key: m for m in mutants}


def test_operators_change_one_expression_inside_the_solution_only():
    mutants = _by_key(expression_mutants("loss", CELL))
    assert all("n = 3  # outside the solution: never mutated" in m.source for m in mutants.values())
    assert all('"""Doc."""' in m.source for m in mutants.values()), "the rest of the cell stays as written"
    line = " in `return total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0]`"
    matmul = " in `logits = tf.matmul(U, V, transpose_b=True)`"
    expected = {
        "mean/sum: tf.reduce_sum -> tf.reduce_mean" + line,
        "axis: axis=1 -> axis=0" + line,
        "drop argument: tf.reduce_sum(U, axis=1) -> tf.reduce_sum(U)" + line,
        "transpose: tf.matmul(U, V, transpose_b=True) -> tf.matmul(U, V, transpose_b=False)" + matmul,
        "transpose: tf.matmul(U, V, transpose_b=True) -> tf.matmul(U, V, transpose_b=True, transpose_a=True)" + matmul,
        "swap arguments: tf.matmul(U, V, transpose_b=True) -> tf.matmul(V, U, transpose_b=True)" + matmul,
        "drop normalisation: total / (n - 1) -> total" + line,
        "drop term: total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0] -> total / (n - 1)" + line,
        "arithmetic: n - 1 -> (n + 1)" + line,
        "off-by-one: 1 -> 2" + line,
        "return constant: return total / (n - 1) + 2 * tf.reduce_sum(U, axis=1)[0] -> return 0.0",
    }
    assert expected <= set(mutants), sorted(expected - set(mutants))
    naive = [m for m in mutants.values() if m.operator == "naive formula"]
    assert len(naive) == 1 and "tf.exp(logits) / tf.reduce_sum(tf.exp(logits)" in naive[0].mutated
    # precedence is kept: a swapped operator inside a product is parenthesised
    swapped = mutants["arithmetic: 2 * tf.reduce_sum(U, axis=1)[0] -> (2 / tf.reduce_sum(U, axis=1)[0])" + line]
    assert "+ (2 / tf.reduce_sum(U, axis=1)[0])" in swapped.source
    for m in mutants.values():
        compile(m.source, m.key, "exec")


def test_a_cell_without_markers_is_refused():
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        expression_mutants("x", "def f():\n    return 1\n")


def test_library_shortcuts_call_the_declared_answers_with_the_students_parameters():
    import_library()

    cell = "def user_embeddings(network, bag_weights):\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    (shortcut,) = library_shortcut_mutants("user_embeddings", cell, library_answers("user_embeddings"))
    assert "    return network(bag_weights=bag_weights)\n" in shortcut.source
    cell = "def gravity(U, V):\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    (shortcut,) = library_shortcut_mutants("gravity", cell, library_answers("gravity"))
    assert "return library_answer(U, V)" in shortcut.source, "positional when the names differ"


def test_every_listed_equivalent_mutant_is_still_generated():
    import_library()
    equivalents = load_equivalents(ROOT)
    assert equivalents, "solutions/equivalent_mutants.toml lists the reviewed equivalent mutants"
    generated = set()
    for name in course.assignments(ROOT):
        for cell in nbformat.read(course.notebook_path(ROOT, name), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                exercise = meta["grade_id"]
                generated |= {(exercise, m.key) for m in all_mutants(exercise, cell.source, library_answers(exercise))}
    assert set(equivalents) <= generated, sorted(set(equivalents) - generated)
    assert all(len(reason) > 20 for reason in equivalents.values()), "each entry says why"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(KNOWN))
def test_hidden_tests_kill_the_known_mutants(assignment):
    keys = {exercise: set(k) for exercise, k in KNOWN[assignment].items()}
    strengths = measure_assignment(ROOT, assignment, exercises=keys, keys=keys)
    assert {s.exercise for s in strengths} == set(keys)
    for strength in strengths:
        assert len(strength.results) == len(keys[strength.exercise])
        survivors = [r.mutant.key for r in strength.results if not r.killed]
        assert not survivors, f"{strength.exercise}: the tests no longer kill {survivors}"


@pytest.mark.slow
def test_unknown_mutant_key_is_reported():
    with pytest.raises(KeyError, match="no mutant"):
        measure_assignment(ROOT, "01_exploring_movielens", exercises=["most_rated"],
                           keys={"most_rated": {"arithmetic: a + b -> (a - b)"}})


@pytest.mark.slow
def test_cli_reports_every_exercise_of_an_assignment(tmp_path, capsys):
    out = tmp_path / "strength"
    assert main(["--course", str(ROOT), "test-strength", "01_exploring_movielens", "--out", str(out)]) == 0
    rows = json.loads((out / "01_exploring_movielens.json").read_text())
    assert [r["exercise"] for r in rows] == ["most_rated", "best_rated"]
    for row in rows:
        assert row["killed"] + row["survived"] + row["equivalent"] == row["mutants"] > 0
        assert row["score"] >= 0.9
    html = (out / "01_exploring_movielens.html").read_text()
    assert "<table>" in html and "Why equivalent" in html
    assert "| 01_exploring_movielens | `most_rated` |" in (out / "README-table.md").read_text()
    assert "most_rated" in capsys.readouterr().out


def test_readme_table_covers_every_graded_exercise_at_90_percent_or_more():
    text = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| \d\d_\w+ \| `(\w+)` \|.*\| (\d+)% \|$", text, flags=re.MULTILINE))
    graded = set()
    for name in course.assignments(ROOT):
        for cell in nbformat.read(course.notebook_path(ROOT, name), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
                graded.add(meta["grade_id"])
    assert set(rows) == graded, "regenerate the README table with make test-strength"
    assert all(int(score) >= 90 for score in rows.values()), rows
    assert re.search(r"Measured \d{4}-\d\d-\d\d with `make test-strength`", text)


def test_feedback_names_the_requirement_only_through_a_visible_check():
    from movierec_instructor.strength import CellRun, names_requirement

    visible = CellRun(ok=True, score=0.0, stdout="✓ shape (1 of 1)\n✗ the MEAN loss, a scalar (0 of 1): return the MEAN\n")
    hidden = CellRun(ok=True, score=1.0, stdout="✓ shape (1 of 1)\n✗ a hidden check (0 of 1)\n")
    assert names_requirement(visible) and not names_requirement(hidden)
    assert not names_requirement(CellRun(ok=False, error="NameError: x"))
