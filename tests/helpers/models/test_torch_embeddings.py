"""Notebook 06's embedding models in PyTorch: the modules, their penalty, the minibatch loop."""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from movierec_helpers.exercises.reference import ReferenceSolutionUsed, forbid_exercises  # noqa: E402
from movierec_helpers.models.torch import embeddings  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture
def toy_ratings():
    rng = np.random.default_rng(0)
    users, movies = rng.integers(0, 6, 400), rng.integers(0, 9, 400)
    table = pd.DataFrame(
        {"user_id": users, "movie_id": movies, "rating": 3.0 + 0.5 * (users % 3) - 0.4 * (movies % 2)}
    )
    return embeddings.rating_tensors(table, CPU)


def test_tables_start_as_keras_embeddings_do_small_and_uniform():
    torch.manual_seed(0)
    table = embeddings.embedding(1000, 8)
    weight = table.weight.detach()
    assert tuple(weight.shape) == (1000, 8)
    assert float(weight.abs().max()) <= 0.05
    assert float(weight.std()) == pytest.approx(0.1 / np.sqrt(12), rel=0.05)


def test_dot_product_predicts_dot_products_and_penalises_both_tables_whole():
    torch.manual_seed(0)
    model = embeddings.DotProduct(3, 4, factors=2, l2=0.5)
    U, V = model.user_factors.weight.detach().numpy(), model.movie_factors.weight.detach().numpy()
    got = model(torch.tensor([0, 2]), torch.tensor([3, 1])).detach().numpy()
    np.testing.assert_allclose(got, [U[0] @ V[3], U[2] @ V[1]], rtol=1e-6)
    np.testing.assert_allclose(
        float(model.penalty().detach()), 0.5 * ((U**2).sum() + (V**2).sum()), rtol=1e-6
    )


def test_the_biased_model_adds_both_biases_and_the_mean_and_leaves_the_biases_unpenalised():
    torch.manual_seed(1)
    model = embeddings.build_biased_model(3, 4, factors=2, l2=0.5, global_mean=3.5)
    U, V = model.user_factors.weight.detach().numpy(), model.movie_factors.weight.detach().numpy()
    bu, bm = model.user_bias.weight.detach().numpy()[:, 0], model.movie_bias.weight.detach().numpy()[:, 0]
    got = embeddings.predict(model, [1, 2], [0, 3])
    np.testing.assert_allclose(
        got, [U[1] @ V[0] + bu[1] + bm[0] + 3.5, U[2] @ V[3] + bu[2] + bm[3] + 3.5], rtol=1e-6
    )
    np.testing.assert_allclose(
        float(model.penalty().detach()), 0.5 * ((U**2).sum() + (V**2).sum()), rtol=1e-6
    )


def test_the_deep_model_is_the_stated_network_and_drops_out_only_in_training():
    torch.manual_seed(2)
    model = embeddings.build_deep_model(5, 7, factors=4, global_mean=3.0)
    layers = list(model.network)
    assert [type(m).__name__ for m in layers] == ["Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert [layers[0].p, layers[3].p] == [0.3, 0.75]
    assert (layers[1].in_features, layers[1].out_features, layers[4].out_features) == (8, 70, 1)
    users, movies = torch.zeros(50, dtype=torch.long), torch.ones(50, dtype=torch.long)
    first, second = embeddings.predict(model, users, movies), embeddings.predict(model, users, movies)
    np.testing.assert_array_equal(first, second)
    assert model.training, "predict gives the training mode back"
    assert len(set(model(users, movies).detach().numpy().round(6))) > 1, "dropout in training mode"


def test_library_answers_are_refused_while_their_exercise_is_graded():
    with forbid_exercises("biased_model"), pytest.raises(ReferenceSolutionUsed):
        embeddings.BiasedModel(3, 4)
    with forbid_exercises("deep_model"), pytest.raises(ReferenceSolutionUsed):
        embeddings.build_deep_model(3, 4)
    with forbid_exercises("biased_model"):
        embeddings.DotProduct(3, 4)  # the notebook's own model stays usable


def test_fit_epochs_trains_steps_the_scheduler_per_epoch_and_restores_the_threads(toy_ratings):
    torch.manual_seed(3)
    model = embeddings.BiasedModel(6, 9, factors=3, l2=1e-4, global_mean=3.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 10.0 if epoch == 1 else 1.0)
    threads = torch.get_num_threads()
    history = embeddings.fit_epochs(model, optimizer, toy_ratings, toy_ratings, 4, 32, scheduler, seed=0)
    assert torch.get_num_threads() == threads
    assert list(history.columns) == ["loss", "rmse", "val_rmse", "learning_rate"]
    np.testing.assert_allclose(history["learning_rate"], [0.01, 0.1, 0.01, 0.01])
    assert history["val_rmse"].iloc[-1] < history["val_rmse"].iloc[0]
    users, movies, ratings = toy_ratings
    rmse = np.sqrt(np.mean((embeddings.predict(model, users, movies) - ratings.numpy()) ** 2))
    assert history["val_rmse"].iloc[-1] == pytest.approx(rmse, rel=1e-5)


def test_fit_epochs_adds_the_penalty_and_the_same_random_state_gives_the_same_run(toy_ratings):
    def run(l2, seed):
        torch.manual_seed(4)
        model = embeddings.DotProduct(6, 9, factors=3, l2=l2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        history = embeddings.fit_epochs(model, optimizer, toy_ratings, epochs=2, batch_size=50, seed=seed)
        return history, float(model.user_factors.weight.detach().square().sum())

    (plain, norm), (again, norm_again), (penalised, small_norm) = run(0.0, 0), run(0.0, 0), run(1.0, 0)
    pd.testing.assert_frame_equal(plain, again)
    assert norm == norm_again and small_norm < norm
    assert (penalised["loss"] > penalised["rmse"] ** 2).all(), "the loss is the MSE plus the penalty"
    np.testing.assert_allclose(plain["loss"], plain["rmse"] ** 2, rtol=1e-5)
    assert not run(0.0, 1)[0].equals(plain), "another random state shuffles otherwise"
