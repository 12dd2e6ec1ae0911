"""The PyTorch track's library: its CFModel loop, losses and models (movierec_helpers.models.torch_*)."""

import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from movierec_helpers.data import DataError, load_course_data  # noqa: E402
from movierec_helpers.exercises.reference import ReferenceSolutionUsed, forbid_exercises  # noqa: E402
from movierec_helpers.models.torch import losses as torch_losses  # noqa: E402
from movierec_helpers.models.torch import mf as torch_mf  # noqa: E402
from movierec_helpers.models.torch.cfmodel import CFModel, TrainingDivergedError, default_device  # noqa: E402


@pytest.fixture(scope="module")
def course():
    return load_course_data(seed=42)


def _numpy_mse(idx, vals, U, V):
    return np.mean((vals - (U[idx[0]] * V[idx[1]]).sum(1)) ** 2)


def test_rating_tensor_is_coalesced_float32_and_checks_ids():
    ratings = pd.DataFrame({"user_id": [2, 0, 1], "movie_id": [1, 2, 0], "rating": [4.0, 2.0, 3.0]})
    A = torch_losses.build_rating_sparse_tensor(ratings, 3, 3)
    assert A.is_coalesced() and A.dtype == torch.float32 and A.layout == torch.sparse_coo
    np.testing.assert_array_equal(A.indices().numpy(), [[0, 1, 2], [2, 0, 1]])
    np.testing.assert_array_equal(A.to_dense().numpy(), [[0, 0, 2], [3, 0, 0], [0, 4, 0]])
    with pytest.raises(DataError):
        torch_losses.build_rating_sparse_tensor(ratings, 2, 3)


def test_observed_mse_matches_numpy_on_an_uncoalesced_tensor():
    rng = np.random.default_rng(3)
    U, V = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)
    idx = np.array([[4, 0, 2, 1], [5, 0, 3, 4]])
    vals = np.array([1.0, 2.0, 3.0, 5.0], np.float32)
    U_t = torch.tensor(U, requires_grad=True)
    loss = torch_losses.sparse_mean_square_error(
        torch.sparse_coo_tensor(idx, vals, (5, 6)), U_t, torch.tensor(V)
    )
    np.testing.assert_allclose(loss.item(), _numpy_mse(idx, vals, U, V), rtol=1e-6)
    loss.backward()
    # d/dU_i of the mean of (r - <U_i, V_j>)^2: -2/|Omega| * sum_j (r_ij - <U_i, V_j>) V_j
    residual = vals - (U[idx[0]] * V[idx[1]]).sum(1)
    expected = np.zeros_like(U)
    np.add.at(expected, idx[0], -2 / len(vals) * residual[:, None] * V[idx[1]])
    np.testing.assert_allclose(U_t.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_gravity_equals_the_mean_of_every_squared_dot_product():
    rng = np.random.default_rng(4)
    U, V = rng.normal(size=(7, 3)), rng.normal(size=(9, 3))
    got = torch_losses.gravity(torch.tensor(U), torch.tensor(V))
    np.testing.assert_allclose(float(got), ((U @ V.T) ** 2).mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="dimension 3 must match the movie embedding dimension 2"):
        torch_losses.gravity(torch.tensor(U), torch.tensor(V[:, :2]))


def test_library_answers_are_forbidden_while_their_exercise_is_graded():
    A = torch.sparse_coo_tensor([[0], [0]], [1.0], (1, 1))
    with forbid_exercises("mse_gather"), pytest.raises(ReferenceSolutionUsed, match="PyTorch"):
        torch_losses.sparse_mean_square_error(A, torch.ones(1, 2), torch.ones(1, 2))


def test_mf_model_trains_reproducibly_and_keeps_history(course):
    data, train, test = course
    runs = []
    for _ in range(2):
        model = torch_mf.build_model(
            train, test, data.num_users, data.num_movies, embedding_dim=8, init_stddev=0.5, seed=7
        )
        first = model.evaluate()
        runs.append(model.train(30, 5.0, plot_results=False, progress=False))
    assert runs[0] == runs[1], "the same seed gives the same run"
    assert runs[0]["train_error"] < first["train_error"]
    assert model.device == "CPU" and default_device().type == "cpu"
    assert list(model.history["iteration"]) == [0, 10, 20, 30]
    snapshot = model.embeddings["movie_id"]
    model.train(10, 5.0, plot_results=False, progress=False)
    assert not np.allclose(snapshot, model.embeddings["movie_id"]), (
        "embeddings read earlier do not move with training"
    )
    model = torch_mf.build_model(
        train, test, data.num_users, data.num_movies, embedding_dim=8, init_stddev=0.5, seed=7
    )
    model.train(30, 5.0, plot_results=False, progress=False)
    assert model.embeddings["user_id"].shape == (943, 8) and model.iteration == 30
    U, V = model.embeddings["user_id"], model.embeddings["movie_id"]
    idx = test[["user_id", "movie_id"]].to_numpy().T
    np.testing.assert_allclose(
        runs[0]["test_error"], _numpy_mse(idx, test["rating"].to_numpy(), U, V), rtol=1e-5
    )


def test_regularized_model_reports_its_terms(course):
    data, train, test = course
    model = torch_mf.build_regularized_model(
        train,
        test,
        data.num_users,
        data.num_movies,
        embedding_dim=5,
        regularization_coeff=0.1,
        gravity_coeff=1.0,
        init_stddev=0.5,
        seed=3,
    )
    values = model.evaluate()
    U, V = model.embeddings["user_id"], model.embeddings["movie_id"]
    np.testing.assert_allclose(
        values["regularization_loss"], 0.1 * ((U**2).sum(1).mean() + (V**2).sum(1).mean()), rtol=1e-5
    )
    np.testing.assert_allclose(values["gravity_loss"], ((U @ V.T) ** 2).mean(), rtol=1e-4)
    before = values["regularization_loss"]
    after = model.train(20, 1.0, optimizer="adagrad", plot_results=False, progress=False)
    assert after["regularization_loss"] < before


def test_a_diverging_loss_restores_the_embeddings_and_names_the_fix():
    U = torch.nn.Parameter(torch.ones(3, 2))
    V = torch.nn.Parameter(torch.ones(4, 2))
    model = CFModel({"user_id": U, "movie_id": V}, lambda: ((U @ V.T) ** 4).sum())
    with pytest.raises(TrainingDivergedError, match=r"at iteration \d+.*lower learning rate"):
        model.train(50, 10.0, plot_results=False, progress=False)
    np.testing.assert_array_equal(model.embeddings["user_id"], np.ones((3, 2)), "restored to iteration 0")


def test_mistakes_in_a_models_parts_get_plain_messages():
    U = torch.nn.Parameter(torch.ones(3, 2))
    V = torch.nn.Parameter(torch.ones(4, 2))
    with pytest.raises(ValueError, match="leaf tensor that requires gradients"):
        CFModel({"user_id": torch.ones(3, 2, requires_grad=True) * 0.5, "movie_id": V}, lambda: U.sum())
    with pytest.raises(ValueError, match="leaf tensor that requires gradients"):
        CFModel({"user_id": torch.ones(3, 2), "movie_id": V}, lambda: U.sum())
    with pytest.raises(TypeError, match="must be a torch tensor"):
        CFModel({"user_id": np.ones((3, 2)), "movie_id": V}, lambda: U.sum())
    with pytest.raises(TypeError, match="scalar torch tensor"):
        CFModel({"user_id": U, "movie_id": V}, lambda: 1.0).train(1, plot_results=False, progress=False)
    with pytest.raises(ValueError, match="no grad_fn"):
        CFModel({"user_id": U, "movie_id": V}, lambda: (U @ V.T).sum().detach()).train(
            1, plot_results=False, progress=False
        )
    with pytest.raises(ValueError, match="Unknown optimizer 'adam'"):
        CFModel({"user_id": U, "movie_id": V}, lambda: (U @ V.T).sum()).train(
            1, optimizer="adam", plot_results=False, progress=False
        )


@pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="no triton (installed with torch on Linux only)"
)
def test_loading_after_tensorflow_is_refused_with_the_fix():
    code = (
        "import tensorflow\n"
        "try:\n    import movierec_helpers.models.torch.cfmodel\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "FrameworkClash" in done.stdout and "Restart the kernel" in done.stdout, done.stdout


def test_pytorch_sparse_errors_in_plain_words(capsys):
    from movierec_helpers.exercises import PartialCredit

    checks = PartialCredit()
    with checks.check(1, "indices"):  # an (n, 2) array, not transposed
        torch.sparse_coo_tensor(np.array([[0, 0], [0, 1], [1, 3]]).astype(np.int64), [5.0, 3.0, 1.0], (2, 4))
    with checks.check(1, "size"):
        torch.sparse_coo_tensor([[0, 0, 1], [0, 1, 3]], [5.0, 3.0, 1.0], (4, 2))
    with checks.check(1, "coalesce"):
        torch.sparse_coo_tensor([[1, 0], [0, 1]], [5.0, 3.0], (2, 2)).indices()
    out = capsys.readouterr().out
    assert (
        "✗ indices (0 of 1): RuntimeError: torch.sparse_coo_tensor wants indices of shape (2, number of "
        "entries)" in out
    )
    assert "✗ size (0 of 1): RuntimeError: an index is outside the size you gave" in out
    assert "✗ coalesce (0 of 1): RuntimeError: call .coalesce() on the sparse tensor first" in out
    assert "    Cannot get indices on an uncoalesced tensor" in out, "PyTorch's own words follow"


def test_observed_mse_of_a_large_catalogue_gathers_and_matches_numpy():
    """Past 2^24 user-movie pairs the library gathers rows instead of forming U V^T; same values and
    gradients."""
    rng = np.random.default_rng(5)
    n = 5000  # 25 million pairs
    U, V = rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 3)).astype(np.float32)
    idx = np.array([[4999, 7, 7, 1200], [0, 4999, 3, 1200]])
    vals = np.array([1.0, 2.0, 3.0, 5.0], np.float32)
    U_t, V_t = torch.tensor(U, requires_grad=True), torch.tensor(V, requires_grad=True)
    loss = torch_losses.sparse_mean_square_error(torch.sparse_coo_tensor(idx, vals, (n, n)), U_t, V_t)
    np.testing.assert_allclose(loss.item(), _numpy_mse(idx, vals, U, V), rtol=1e-6)
    loss.backward()
    residual = (U[idx[0]] * V[idx[1]]).sum(1) - vals
    expected_v = np.zeros_like(V)
    np.add.at(expected_v, idx[1], 2 / len(vals) * residual[:, None] * U[idx[0]])
    np.testing.assert_allclose(V_t.grad.numpy(), expected_v, rtol=1e-5, atol=1e-6)
