"""The tolerant comparison of stored outputs lets float noise through and nothing else."""

import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_output

from movierec_helpers import charts
from tests.nbval_tolerance import FLOAT_REL, Mismatch, compare_text, compare_vegalite, reconcile


def _norm_spec(ml100k, vectors):
    return charts.embedding_norm_chart({"model": vectors}, ml100k.movies, ml100k.ratings).to_dict()


@pytest.fixture(scope="module")
def vectors():
    return np.random.default_rng(0).normal(size=(1682, 4)).astype(np.float32)


def test_float_noise_of_another_cpu_passes(ml100k, vectors):
    noisy = vectors * (1 + 1e-6 * np.random.default_rng(1).standard_normal(vectors.shape))
    ref, test = _norm_spec(ml100k, vectors), _norm_spec(ml100k, noisy)
    assert ref != test, "the noise should change some rounded value (and the dataset's hash name)"
    compare_vegalite(ref, test)


def test_value_off_by_more_than_the_tolerance_fails(ml100k, vectors):
    moved = vectors.copy()
    moved[7] *= 1 + 3 * FLOAT_REL
    with pytest.raises(Mismatch, match=r"row 7, 'norm_0'"):
        compare_vegalite(_norm_spec(ml100k, vectors), _norm_spec(ml100k, moved))


def test_wrong_column_fails(ml100k, vectors):
    ref = _norm_spec(ml100k, vectors)
    other = charts.embedding_norm_chart(
        {"model": vectors}, ml100k.movies.assign(genre="Drama"), ml100k.ratings
    )
    with pytest.raises(Mismatch, match="'genre'"):
        compare_vegalite(ref, other.to_dict())
    renamed = charts.embedding_norm_chart({"other name": vectors}, ml100k.movies, ml100k.ratings).to_dict()
    with pytest.raises(Mismatch, match="specification"):
        compare_vegalite(ref, renamed)


def test_different_rows_fail(ml100k):
    coords = np.random.default_rng(0).normal(size=(100, 2)) * 10
    ref = charts.embedding_scatter(coords, ml100k.movies.head(100)).to_dict()
    fewer = charts.embedding_scatter(coords[:99], ml100k.movies.head(99)).to_dict()
    with pytest.raises(Mismatch, match="99 rows"):
        compare_vegalite(ref, fewer)
    shuffled = ml100k.movies.head(100).iloc[::-1].reset_index(drop=True)
    with pytest.raises(Mismatch, match="'title'"):
        compare_vegalite(ref, charts.embedding_scatter(coords, shuffled).to_dict())


def test_map_coordinates_compare_by_spread_only(ml100k):
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(200, 2)) * 10
    movies = ml100k.movies.head(200)
    ref = charts.embedding_scatter(coords, movies).to_dict()
    rearranged = charts.embedding_scatter(rng.normal(size=(200, 2)) * 11, movies).to_dict()
    compare_vegalite(ref, rearranged)  # t-SNE on another CPU: every point elsewhere, same spread
    with pytest.raises(Mismatch, match="spread of layout field 'x'"):
        compare_vegalite(ref, charts.embedding_scatter(coords * [4, 1], movies).to_dict())
    broken = coords.copy()
    broken[3, 1] = np.nan
    with pytest.raises(Mismatch, match="non-finite"):
        compare_vegalite(ref, charts.embedding_scatter(broken, movies).to_dict())


def test_training_curves_tolerate_drift_but_not_another_run():
    a = pd.DataFrame({"val_rmse": [1.10, 1.00, 0.95]})
    ref = charts.training_curves({"m": a}, "val_rmse", "RMSE").to_dict()
    compare_vegalite(ref, charts.training_curves({"m": a * 1.001}, "val_rmse", "RMSE").to_dict())
    with pytest.raises(Mismatch):
        compare_vegalite(ref, charts.training_curves({"m": a * 1.1}, "val_rmse", "RMSE").to_dict())


@pytest.mark.parametrize(
    "ref, test, ok",
    [
        ("test MSE 0.9713", "test MSE 0.9713", True),
        ("test MSE 0.9713", "test MSE 0.9714", True),  # a rounding flip in the last digit
        ("test MSE 0.9713", "test MSE 0.9730", False),  # a different result
        ("943 users", "944 users", False),  # integers are exact
        ("recall@10 0.226", "precision@10 0.226", False),  # the words are exact
        ("<td>0.50</td><td>Star Wars (1977)</td>", "<td>0.51</td><td>Star Wars (1977)</td>", True),
        ("<td>0.50</td><td>Star Wars (1977)</td>", "<td>0.50</td><td>Fargo (1996)</td>", False),
    ],
)
def test_text_numbers_agree_up_to_rounding(ref, test, ok):
    if ok:
        compare_text(ref, test)
    else:
        with pytest.raises(Mismatch):
            compare_text(ref, test)


def test_reconcile_replaces_only_matching_outputs():
    ref = [
        new_output("stream", name="stdout", text="train_error=0.1234\n"),
        new_output("execute_result", data={"text/plain": "0.50"}, execution_count=1),
    ]
    test = [
        new_output("stream", name="stdout", text="train_error=0.1235\n"),
        new_output("execute_result", data={"text/plain": "0.70"}, execution_count=1),
    ]
    problems = reconcile(ref, test)
    assert test[0]["text"] == "train_error=0.1234\n", "within tolerance: made equal to the stored one"
    assert test[1]["data"]["text/plain"] == "0.70", "beyond tolerance: left for nbval to report"
    assert len(problems) == 1 and problems[0].startswith("text/plain")


def _speed_spec(qps, recall=0.95):
    table = pd.DataFrame(
        {
            "M": [8, 8],
            "ef_search": [10, 20],
            "recall@10": [0.9, recall],
            "distances per query": [300.0, 420.0],
            "queries per second": qps,
        }
    )
    return charts.recall_cost_chart(table).to_dict()


def test_timing_fields_may_differ_but_must_be_positive_and_the_rest_still_counts():
    compare_vegalite(_speed_spec([41000.0, 30000.0]), _speed_spec([12000.0, 9000.5]))
    with pytest.raises(Mismatch, match="timing field 'queries per second'"):
        compare_vegalite(_speed_spec([41000.0, 30000.0]), _speed_spec([41000.0, float("nan")]))
    with pytest.raises(Mismatch, match="'recall@10'"):
        compare_vegalite(_speed_spec([41000.0, 30000.0]), _speed_spec([41000.0, 30000.0], recall=0.85))
