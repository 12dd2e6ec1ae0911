import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from movierec_helpers.data import split_ratings
from movierec_helpers.exercises import own_work
from movierec_helpers.exercises.reference import (
    ReferenceSolutionUsed,
    forbid_exercises,
    library_answers,
    reference_solution,
)
from movierec_helpers.models.tensorflow.cfmodel import CFModel, TrainingDivergedError
from movierec_helpers.models.tensorflow.losses import (
    build_rating_sparse_tensor,
    gravity,
    l2_regularization,
    softmax_loss,
    sparse_mean_square_error,
)
from movierec_helpers.models.tensorflow.mf import build_model, build_regularized_model
from movierec_helpers.models.tensorflow.softmax import SoftmaxNetwork

TOY = pd.DataFrame(
    {"user_id": [0, 0, 1, 2, 2], "movie_id": [0, 1, 3, 2, 0], "rating": [5.0, 3.0, 1.0, 4.0, 2.0]}
)


def _toy_problem(dim, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(3, dim)).astype(np.float32)
    V = rng.normal(size=(4, dim)).astype(np.float32)
    return U, V


def _numpy_mse_and_grads(U, V):
    i, j, a = TOY["user_id"].to_numpy(), TOY["movie_id"].to_numpy(), TOY["rating"].to_numpy()
    resid = (U[i] * V[j]).sum(1) - a
    gU, gV = np.zeros_like(U), np.zeros_like(V)
    np.add.at(gU, i, 2 * resid[:, None] * V[j] / len(a))
    np.add.at(gV, j, 2 * resid[:, None] * U[i] / len(a))
    return (resid**2).mean(), gU, gV


def test_sparse_tensor_from_toy_ratings():
    A = build_rating_sparse_tensor(TOY, 3, 4)
    dense = tf.sparse.to_dense(A).numpy()
    expected = np.zeros((3, 4), np.float32)
    expected[TOY.user_id, TOY.movie_id] = TOY.rating
    np.testing.assert_array_equal(dense, expected)


@pytest.mark.parametrize("dim", [3, 35, 64])  # 35 and 64 take the column-block path
def test_mse_value_and_gradients_match_numpy(dim):
    U0, V0 = _toy_problem(dim)
    U, V = tf.Variable(U0), tf.Variable(V0)
    A = build_rating_sparse_tensor(TOY, 3, 4)
    with tf.GradientTape() as tape:
        loss = sparse_mean_square_error(A, U, V)
    gU, gV = tape.gradient(loss, [U, V])
    ref_loss, ref_gU, ref_gV = _numpy_mse_and_grads(U0, V0)
    np.testing.assert_allclose(loss.numpy(), ref_loss, rtol=1e-5)
    np.testing.assert_allclose(tf.convert_to_tensor(gU).numpy(), ref_gU, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tf.convert_to_tensor(gV).numpy(), ref_gV, rtol=1e-4, atol=1e-6)


def test_gravity_and_l2_match_dense_definitions():
    U, V = _toy_problem(5)
    np.testing.assert_allclose(
        gravity(tf.constant(U), tf.constant(V)).numpy(), ((U @ V.T) ** 2).mean(), rtol=1e-5
    )
    np.testing.assert_allclose(
        l2_regularization(tf.constant(U), tf.constant(V)).numpy(),
        (U**2).sum() / 3 + (V**2).sum() / 4,
        rtol=1e-5,
    )


def test_softmax_loss_matches_numpy_and_checks_dims():
    psi, V = _toy_problem(4)
    labels = np.array([0, 3, 2])
    logits = psi @ V.T
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -logp[np.arange(3), labels].mean()
    np.testing.assert_allclose(softmax_loss(psi, V, labels).numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="dimension 4 must match the movie embedding dimension 5"):
        softmax_loss(psi, np.zeros((4, 5), np.float32), labels)


def test_reference_functions_refuse_while_their_exercise_is_forbidden():
    with forbid_exercises("mse_gather"):
        A = build_rating_sparse_tensor(TOY, 3, 4)  # answers another exercise: allowed
        shortcut = sparse_mean_square_error  # another name does not help
        with pytest.raises(ReferenceSolutionUsed, match="sparse_mean_square_error"):
            shortcut(A, *_toy_problem(2))
    sparse_mean_square_error(A, *_toy_problem(2))


def test_softmax_network_call_answers_user_embeddings():
    net = SoftmaxNetwork({"movie_id": 4}, {"movie_id": 2}, [2], seed=0)
    bags = {"movie_id": tf.ones([1, 4]) / 4}
    assert net(bags).shape == (1, 2)

    def user_embeddings(network, bag_weights):
        return network(bag_weights)  # the shortcut a student might try

    with own_work(user_embeddings):
        with pytest.raises(ReferenceSolutionUsed, match="SoftmaxNetwork.__call__"):
            user_embeddings(net, bags)


def test_every_exercise_has_its_library_answers_declared():
    import movierec_helpers.evaluation.scores  # noqa: F401 - registers its answers
    import movierec_helpers.models.tensorflow.mf  # noqa: F401
    import movierec_helpers.models.tensorflow.softmax  # noqa: F401

    assert {fn.__qualname__ for fn in library_answers("mse_gather")} == {"sparse_mean_square_error"}
    assert {fn.__qualname__ for fn in library_answers("regularized_model")} == {
        "build_regularized_model",
        "l2_regularization",
    }
    # Each track's network answers it; the PyTorch one is registered once its module is imported.
    answers = {(fn.__module__, fn.__qualname__) for fn in library_answers("user_embeddings")}
    assert ("movierec_helpers.models.tensorflow.softmax", "SoftmaxNetwork.__call__") in answers
    assert answers <= {
        ("movierec_helpers.models.tensorflow.softmax", "SoftmaxNetwork.__call__"),
        ("movierec_helpers.models.torch.softmax", "SoftmaxNetwork.forward"),
    }
    with pytest.raises(TypeError, match="Name the exercises"):
        reference_solution(lambda x: x)


def _small_model(ml100k, seed=0, dim=8, init=0.1):
    train, test = split_ratings(ml100k.ratings, seed=0)
    return build_model(
        train, test, ml100k.num_users, ml100k.num_movies, embedding_dim=dim, init_stddev=init, seed=seed
    )


def test_training_decreases_error_and_continues(ml100k):
    model = _small_model(ml100k)
    first = model.train(50, 10.0, plot_results=False)
    assert model.iteration == 50
    second = model.train(50, 10.0, plot_results=False)
    assert model.iteration == 100
    history = model.history
    assert history["iteration"].tolist() == list(range(0, 101, 10))
    assert second["train_error"] < first["train_error"] < history["train_error"].iloc[0]
    assert model.device in {"CPU", "GPU"}


def test_same_seed_same_numbers(ml100k):
    a = _small_model(ml100k, seed=5)
    b = _small_model(ml100k, seed=5)
    c = _small_model(ml100k, seed=6)
    ra, rb, rc = (m.train(30, 10.0, plot_results=False) for m in (a, b, c))
    assert ra == rb
    np.testing.assert_array_equal(a.embeddings["movie_id"], b.embeddings["movie_id"])
    assert ra != rc


def test_nan_loss_stops_and_restores(ml100k):
    model = _small_model(ml100k, init=1.0)
    model.train(10, 1.0, plot_results=False)
    before = model.embeddings["user_id"].copy()
    with pytest.raises(TrainingDivergedError, match=r"at iteration \d+.*lower learning rate"):
        model.train(200, 1e6, plot_results=False)
    np.testing.assert_array_equal(model.embeddings["user_id"], before)
    assert np.isfinite(model.embeddings["movie_id"]).all()


def test_dimension_mismatch_is_named():
    U = tf.Variable(tf.zeros([3, 4]))
    V = tf.Variable(tf.zeros([5, 6]))
    with pytest.raises(
        ValueError, match="user embedding dimension 4 must match the movie embedding dimension 6"
    ):
        CFModel({"user_id": U, "movie_id": V}, lambda: tf.constant(0.0))


def test_loss_must_be_callable():
    U = tf.Variable(tf.zeros([3, 4]))
    with pytest.raises(TypeError, match="callable"):
        CFModel({"user_id": U}, tf.constant(0.0))


def test_adagrad_and_keras_optimizer_train(ml100k):
    import keras

    for optimizer in ("adagrad", keras.optimizers.Adam(0.01)):
        model = _small_model(ml100k)
        start = model.evaluate()["train_error"]
        result = model.train(20, 0.5, optimizer=optimizer, plot_results=False)
        assert result["train_error"] < start


def test_regularized_model_reports_components(ml100k):
    train, test = split_ratings(ml100k.ratings, seed=0)
    model = build_regularized_model(
        train, test, ml100k.num_users, ml100k.num_movies, embedding_dim=6, init_stddev=0.1, seed=0
    )
    result = model.train(20, 5.0, plot_results=False)
    assert set(result) == {
        "train_error_observed",
        "test_error_observed",
        "observed_loss",
        "regularization_loss",
        "gravity_loss",
    }
    assert result["observed_loss"] == pytest.approx(result["train_error_observed"])


def test_training_figure_has_one_panel_per_group_plus_embeddings(ml100k):
    from movierec_helpers.charts.training import training_figure

    model = _small_model(ml100k)
    model.train(10, 10.0, plot_results=False)
    fig = training_figure(model.history, [["train_error", "test_error"]], model.embeddings)
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["train_error", "test_error"]
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("iteration", "train_error, test_error")
    assert fig.axes[1].get_xlabel() and fig.axes[1].get_ylabel() and fig.axes[1].get_zlabel()


def test_retraining_reuses_the_step_function_with_fresh_optimizer_state(ml100k):
    cached, fresh = _small_model(ml100k, seed=9), _small_model(ml100k, seed=9)
    for model in (cached, fresh):
        model.train(5, 0.5, optimizer="adagrad", plot_results=False)
    step_function = cached._compiled["adagrad"][1]
    cached.train(5, 0.3, optimizer="adagrad", plot_results=False)
    assert cached._compiled["adagrad"][1] is step_function, "the traced function is reused"
    fresh._compiled.clear()  # forces a brand-new optimizer, as the seed did on every call
    fresh.train(5, 0.3, optimizer="adagrad", plot_results=False)
    np.testing.assert_allclose(
        cached.embeddings["movie_id"], fresh.embeddings["movie_id"], rtol=1e-6, atol=1e-7
    )


def test_an_unfinished_exercise_is_one_plain_line():
    from movierec_helpers.exercises import ExerciseNotDone

    v = tf.Variable(tf.ones([3, 2]))

    def softmax_loss(user_embeddings, movie_embeddings, labels):
        raise NotImplementedError()

    model = CFModel({"x": v}, lambda: softmax_loss(v, v, 1), [{"loss": lambda: softmax_loss(v, v, 1)}])
    for call in (lambda: model.train(num_iterations=2, plot_results=False, progress=False), model.evaluate):
        with pytest.raises(ExerciseNotDone, match=r"^softmax_loss is not written yet") as info:
            call()
        assert info.value._render_traceback_() == [f"ExerciseNotDone: {info.value}"], "IPython shows one line"
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_partial_credit_counts_each_check_and_hides_hidden_details(capsys):
    from movierec_helpers.exercises import PartialCredit

    checks = PartialCredit()
    with checks.check(1, "first"):
        assert True
    with checks.check(1, "second"):
        raise AssertionError("the plain-words reason")
    with checks.check(0.5, "secret", hidden=True):
        raise ValueError("hidden test code must not show")
    with checks.check(0.5, "errors count as failures"):
        raise NotImplementedError()
    assert checks.score == 1.0 and checks.possible == 3.0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "✓ first (1 of 1)",
        "✗ second (0 of 1): the plain-words reason",
        "✗ a hidden check (0 of 0.5)",
        "✗ errors count as failures (0 of 0.5): NotImplementedError",
    ]


def test_training_draws_its_figure_except_while_grading(ml100k, monkeypatch):
    from movierec_helpers.charts import training

    drawn = []
    monkeypatch.setattr(training, "show_figure", lambda figure: drawn.append(figure))
    model = _small_model(ml100k)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    model.train(2, 1.0, progress=False)
    assert drawn == [], "no figure while nbgrader grades"
    monkeypatch.delenv("NBGRADER_EXECUTION")
    model.train(2, 1.0, progress=False)
    assert len(drawn) == 1
