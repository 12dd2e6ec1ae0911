"""A typical mistake prints a message that names it (issue #21).

Each case runs the *visible* part of a released test cell (what a student runs) against a
plausible wrong answer, in-process, and asserts the exact phrase the student reads.
"""

import contextlib
import io
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from movierec_helpers.data import load_course_data
from movierec_helpers.evaluation.scores import COSINE, DOT
from movierec_helpers.exercises import PartialCredit, own_work

ROOT = Path(__file__).resolve().parents[2]

BEST_RATED_KEEPS_EXACTLY_MIN = """
def best_rated(ratings, movies, min_count=20, n=10):
    stats = ratings.groupby("movie_id")["rating"].agg(["count", "mean"]).reset_index()
    stats = stats.rename(columns={"count": "rating count", "mean": "rating mean"})
    stats = stats[stats["rating count"] >= min_count]
    table = stats.merge(movies[["movie_id", "title"]], on="movie_id")
    table = table.sort_values(["rating mean", "movie_id"], ascending=[False, True])
    return table[["title", "rating count", "rating mean"]].head(n).reset_index(drop=True)
"""
COSINE_TEMPLATE = """
def compute_scores(query_embedding, item_embeddings, measure=DOT):
    u, V = np.asarray(query_embedding, float), np.asarray(item_embeddings, float)
    if measure == COSINE:
        return V @ u / ({denominator})
    return V @ u
"""


def _visible_test(notebook: str, grade_id: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / notebook / f"{notebook}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _run(test_source: str, answer_source: str, **namespace) -> str:
    scope = {
        "np": np,
        "pd": pd,
        "PartialCredit": PartialCredit,
        "own_work": own_work,
        "DOT": DOT,
        "COSINE": COSINE,
        **namespace,
    }
    exec(answer_source, scope)  # noqa: S102 - the student's answer, as the notebook defines it
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(test_source, scope)  # noqa: S102 - the released test cell
    return out.getvalue()


@pytest.fixture(scope="module")
def tables():
    data, _, _ = load_course_data(seed=42)
    return {"ratings": data.ratings, "movies": data.movies}


def test_best_rated_keeping_exactly_min_count(tables):
    out = _run(
        _visible_test("01_exploring_movielens", "best_rated_tests"), BEST_RATED_KEEPS_EXACTLY_MIN, **tables
    )
    assert "✗ movies with more than min_count ratings, best mean first (0 of 1): " in out
    assert (
        "a movie with exactly min_count=1 rating was kept: keep only movies with MORE than min_count ratings"
    ) in out


@pytest.mark.parametrize(
    ("denominator", "phrase"),
    [
        ("np.linalg.norm(V, axis=1)", "divide each score by the query's norm too"),
        ("np.linalg.norm(u)", "divide each score by that item's norm too"),
        (
            "np.linalg.norm(u) * np.linalg.norm(V)",
            "divide by each item's own norm, not the norm of the whole matrix",
        ),
    ],
)
def test_cosine_mistakes_are_named(denominator, phrase):
    items = np.array([[1.0, 0.0], [3.0, 4.0], [-2.0, 0.0]])
    out = _run(
        _visible_test("03_inspecting_embeddings", "compute_scores_tests"),
        COSINE_TEMPLATE.format(denominator=denominator),
        items=items,
    )
    assert "✓ dot scores" in out
    assert f"✗ cosine scores divide by both norms (0 of 1): {phrase}\n" in out
    assert "    first wrong value at [" in out and "expected" in out, "and what came out where"
