"""The PyTorch track as PyTorch people write it: nn.Module models, the device rule, the training loop."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from movierec_helpers.data import load_course_data  # noqa: E402
from movierec_helpers.exercises.reference import ReferenceSolutionUsed, forbid_exercises  # noqa: E402
from movierec_helpers.models.torch import device as torch_device  # noqa: E402
from movierec_helpers.models.torch import mf as torch_mf  # noqa: E402
from movierec_helpers.models.torch.cfmodel import CFModel, module_embeddings  # noqa: E402
from movierec_helpers.models.torch.training import fit, rating_batch, train_step  # noqa: E402


@pytest.fixture
def toy():
    U = torch.tensor([[1.0, 0.5], [0.2, -0.4], [-0.3, 0.8]])
    V = torch.tensor([[0.6, 0.1], [0.9, -0.2], [0.4, 0.4], [-0.5, 0.7]])
    batch = (
        torch.tensor([0, 0, 1, 2, 2]),
        torch.tensor([0, 1, 3, 2, 3]),
        torch.tensor([5.0, 3.0, 1.0, 4, 2]),
    )
    return torch_mf.MatrixFactorization(U, V), batch


def test_the_device_rule_is_the_cpu_here_a_gpu_when_torch_sees_one_and_the_variable_wins(monkeypatch):
    monkeypatch.delenv(torch_device.DEVICE_VARIABLE, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torch_device.default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert torch_device.default_device() == torch.device("cuda")
    monkeypatch.setenv(torch_device.DEVICE_VARIABLE, "cpu")
    assert torch_device.default_device() == torch.device("cpu")
    monkeypatch.setenv(torch_device.DEVICE_VARIABLE, "cuda:1")
    assert torch_device.default_device() == torch.device("cuda", 1)
    monkeypatch.setenv(torch_device.DEVICE_VARIABLE, "tpu-please")
    with pytest.raises(ValueError, match="not a PyTorch device"):
        torch_device.default_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(torch_device.DEVICE_VARIABLE, "cuda")
    with pytest.raises(ValueError, match="PyTorch sees none"):
        torch_device.default_device()


def test_the_library_model_goes_where_the_rule_says(monkeypatch):
    """The CUDA path is built without a GPU: the rule says cuda, and every tensor and the module are
    sent there (recorded, not moved)."""
    data, train, test = load_course_data(seed=42)
    sent = []
    monkeypatch.delenv(torch_device.DEVICE_VARIABLE, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.nn.Module, "to", lambda self, device: sent.append(("module", device)) or self)
    real_sparse = torch.sparse_coo_tensor

    def sparse_on(indices, values, size, device=None):
        sent.append(("ratings", torch.device(device)))
        return real_sparse(indices, values, size)

    monkeypatch.setattr(torch, "sparse_coo_tensor", sparse_on)
    model = torch_mf.build_model(train, test, data.num_users, data.num_movies, embedding_dim=2, seed=1)
    assert sent == [("ratings", torch.device("cuda"))] * 2 + [("module", torch.device("cuda"))]
    assert isinstance(model.module, torch_mf.MatrixFactorization)


def test_the_same_random_state_gives_the_same_module_on_any_device(monkeypatch):
    data, train, test = load_course_data(seed=42)
    monkeypatch.setenv(torch_device.DEVICE_VARIABLE, "cpu")
    first = torch_mf.build_model(train, test, data.num_users, data.num_movies, embedding_dim=3, seed=5)
    drawn = torch_mf.init_embeddings(data.num_users, 3, 1.0, 5)
    np.testing.assert_array_equal(first.embeddings["user_id"], drawn.numpy())
    assert first.module.U.device == torch.device("cpu") and first.device == "CPU"


def test_the_module_predicts_dot_products_and_names_its_embeddings(toy):
    module, (users, movies, _) = toy
    np.testing.assert_allclose(
        module(users, movies).detach().numpy(), [0.65, 0.8, -0.38, 0.2, 0.71], rtol=1e-6
    )
    assert list(module_embeddings(module)) == ["user_id", "movie_id"]
    assert module.U is module.user_id.weight and module.V is module.movie_id.weight
    with pytest.raises(ValueError, match="dimension 2 must match the movie embedding dimension 3"):
        torch_mf.MatrixFactorization(torch.ones(2, 2), torch.ones(2, 3))
    with pytest.raises(ValueError, match="has no embeddings"):
        module_embeddings(torch.nn.ReLU())


def _numpy_losses(module, batch, lr, steps):
    U, V = module.U.detach().numpy().astype(float), module.V.detach().numpy().astype(float)
    users, movies, ratings = (t.numpy() for t in batch)
    losses = []
    for _ in range(steps):
        residuals = (U[users] * V[movies]).sum(1) - ratings
        losses.append(np.mean(residuals**2))
        grad_u, grad_v = np.zeros_like(U), np.zeros_like(V)
        np.add.at(grad_u, users, 2 / len(ratings) * residuals[:, None] * V[movies])
        np.add.at(grad_v, movies, 2 / len(ratings) * residuals[:, None] * U[users])
        U, V = U - lr * grad_u, V - lr * grad_v
    return np.array(losses), U


def test_fit_takes_sgd_steps_and_returns_the_losses_as_one_tensor_without_reading_them(toy, monkeypatch):
    module, batch = toy
    expected, final_u = _numpy_losses(module, batch, 0.5, 4)
    reads = []
    monkeypatch.setattr(torch.Tensor, "item", lambda self: reads.append("item"))
    losses = fit(module, torch.optim.SGD(module.parameters(), lr=0.5), batch, 4)
    monkeypatch.undo()
    assert not reads and isinstance(losses, torch.Tensor) and losses.shape == (4,)
    assert not losses.requires_grad, "the losses are detached: no graph kept alive"
    np.testing.assert_allclose(losses.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(module.U.detach().numpy(), final_u, rtol=1e-5, atol=1e-7)
    with forbid_exercises("fit"), pytest.raises(ReferenceSolutionUsed):
        fit(module, torch.optim.SGD(module.parameters(), lr=0.5), batch, 1)
    with forbid_exercises("fit"):
        train_step(module, torch.optim.SGD(module.parameters(), lr=0.5), batch)  # a helper, not the answer


def test_cfmodel_trains_a_module_as_fit_does(toy):
    module, batch = toy
    twin = torch_mf.MatrixFactorization(module.U.detach().clone(), module.V.detach().clone())
    A = torch.sparse_coo_tensor(torch.stack(batch[:2]), batch[2], (3, 4))
    assert all(torch.equal(a, b) for a, b in zip(rating_batch(A), batch))
    losses = fit(module, torch.optim.SGD(module.parameters(), lr=0.5), batch, 5)

    def mse(m):
        return torch.nn.functional.mse_loss(m(*batch[:2]), batch[2])

    model = CFModel(twin, mse, [{"train_error": mse}])
    assert model.module is twin and set(model.embeddings) == {"user_id", "movie_id"}
    model.train(5, optimizer=torch.optim.SGD(twin.parameters(), lr=0.5), plot_results=False, progress=False)
    np.testing.assert_allclose(model.history["train_error"].iloc[0], losses[0].item(), rtol=1e-6)
    np.testing.assert_allclose(model.embeddings["user_id"], module.U.detach().numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="takes the module"):
        CFModel(twin, "mse")


def test_a_small_model_on_the_cpu_trains_on_one_thread_and_gives_the_count_back(toy):
    module, batch = toy
    seen = []

    def mse(m):
        seen.append(torch.get_num_threads())
        return torch.nn.functional.mse_loss(m(*batch[:2]), batch[2])

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        CFModel(module, mse).train(3, 0.1, plot_results=False, progress=False)
        assert set(seen) == {1} and torch.get_num_threads() == 2
        seen.clear()
        CFModel(module, mse, cpu_threads=2).train(3, 0.1, plot_results=False, progress=False)
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)
