"""Helpers of the notebooks' own cells: results tables, progress bars."""

import numpy as np
import pandas as pd
import pytest

from movierec_helpers.exercises import ExerciseNotDone, results_of
from movierec_helpers.models.progress import progress_bar, progress_enabled
from movierec_helpers.models.tensorflow.progress import keras_progress


def test_results_of_reads_rows_and_names_the_missing_ones():
    table = pd.DataFrame({"test RMSE": [1.12, 0.95]}, index=["global mean", "dot product"])
    assert results_of(table, "test RMSE", {"mean": "global mean", "dot": "dot product"}) == {
        "mean": pytest.approx(1.12),
        "dot": pytest.approx(0.95),
    }
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


def test_failed_allclose_shows_the_hint_and_the_values_not_the_tolerance(capsys):
    from movierec_helpers.exercises import PartialCredit

    checks = PartialCredit()
    with checks.check(1, "the MSE over observed entries"):
        np.testing.assert_allclose(
            [1.0, 2.0, 3.0],
            [1.0, 2.5, 3.0],
            rtol=1e-5,
            err_msg="average the squared error over the OBSERVED entries only",
        )
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0] == "✗ the MSE over observed entries (0 of 1): "
        "average the squared error over the OBSERVED entries only"
    )
    assert out[1].strip() == "first wrong value at [1]: got 2.0, expected 2.5"
    assert not any("tolerance" in line for line in out)


def test_shape_mismatch_and_tensorflow_errors_in_plain_words(capsys):
    import tensorflow as tf

    from movierec_helpers.exercises import PartialCredit

    checks = PartialCredit()
    with checks.check(1, "one row per user"):
        np.testing.assert_allclose(np.zeros((3, 4)), np.zeros((4, 3)), err_msg="return one row per user")
    with checks.check(1, "predictions"):
        tf.constant([1.0, 2.0, 3.0]) - tf.constant([1.0, 2.0])
    with checks.check(2, "secret", hidden=True):
        raise AssertionError("the hidden input was [3, 0]")
    out = capsys.readouterr().out
    assert "shapes (3, 4), (4, 3) mismatch" in out
    assert "InvalidArgumentError: Incompatible shapes: [3] vs. [2] (in TensorFlow's Sub)" in out
    assert "function_node" not in out and "/job:localhost" not in out
    assert "✗ a hidden check (0 of 2)\n" in out and "[3, 0]" not in out
    assert checks.score == 0 and checks.possible == 4


def test_score_line_says_what_hidden_checks_add_only_where_they_are_missing(capsys):
    from movierec_helpers.exercises import PartialCredit

    student = PartialCredit(points=2)
    with student.check(1, "visible"):
        pass
    assert student.score == 1
    assert (
        capsys.readouterr().out.splitlines()[-1] == "1 of 1 point here; 1 more from hidden checks when graded"
    )
    graded = PartialCredit(points=2)
    with graded.check(1, "visible"):
        pass
    with graded.check(1, "hidden", hidden=True):
        pass
    assert graded.score == 2
    assert "more from hidden checks" not in capsys.readouterr().out, "nothing added when every check ran"


def test_a_warning_fails_its_check_only_and_never_reaches_stderr(capsys):
    import warnings

    from movierec_helpers.exercises import PartialCredit

    checks = PartialCredit()
    with checks.check(1, "zero vectors score 0"):
        zeros = np.zeros(2)
        zeros / zeros  # noqa: B018 - 0/0: NumPy warns "invalid value encountered in divide"
    with checks.check(1, "a later check still runs"):
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with checks.check(1, "a warning the caller silenced does not count"):
            warnings.warn("silenced", UserWarning, stacklevel=1)
    captured = capsys.readouterr()
    assert (
        "✗ zero vectors score 0 (0 of 1): your code raised RuntimeWarning: invalid value encountered in "
        "divide; a graded check must run without warnings"
    ) in captured.out
    assert "✓ a later check still runs (1 of 1)" in captured.out
    assert captured.err == "", "a graded test cell that writes to stderr gets 0 from nbgrader"
    assert checks.score == 2
