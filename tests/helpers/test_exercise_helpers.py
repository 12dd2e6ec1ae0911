"""Helpers of the notebooks' own cells: results tables, progress bars."""

import pandas as pd
import pytest

from movierec_helpers.exercises import ExerciseNotDone, results_of
from movierec_helpers.models.progress import keras_progress, progress_bar, progress_enabled


def test_results_of_reads_rows_and_names_the_missing_ones():
    table = pd.DataFrame({"test RMSE": [1.12, 0.95]}, index=["global mean", "dot product"])
    assert results_of(table, "test RMSE", {"mean": "global mean", "dot": "dot product"}) == {
        "mean": pytest.approx(1.12), "dot": pytest.approx(0.95)}
    with pytest.raises(ExerciseNotDone, match=r"No test RMSE yet for deep model, biased: finish") as info:
        results_of(table, "test RMSE", {"dot": "dot product", "deep": "deep model", "b": "biased"})
    assert len(info.value._render_traceback_()) == 1, "one plain line, no pandas traceback"


def test_progress_follows_the_environment(monkeypatch):
    monkeypatch.setenv("MOVIEREC_PROGRESS", "0")
    assert not progress_enabled() and progress_bar(10) is None and keras_progress() == []
    assert progress_enabled(True)
    monkeypatch.setenv("MOVIEREC_PROGRESS", "1")
    assert progress_enabled()


def test_keras_progress_counts_epochs():
    import keras
    import numpy as np

    (bar_callback,) = keras_progress(progress=True)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=3, verbose=0, callbacks=[bar_callback])
    assert bar_callback.bar.n == 3
    assert "loss=" in bar_callback.bar.postfix, "the bar shows the latest loss"
