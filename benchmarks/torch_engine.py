"""Benchmark of the PyTorch track's training loop (``make bench``), against the port's loop.

Matrix factorisation on MovieLens 100K as notebook 02 (PyTorch track) trains it and as the
PyTorch port of Google's course did (seeded 90/10 split, d=30, full-batch gradient descent,
learning rate 10, init std 0.5, 1000 iterations), every run from the same initial embeddings:

(a) movierec's PyTorch CFModel with the library's observed MSE (``torch_mf.build_model``),
    eager steps, metrics every 10 steps;
(b) a faithful copy of the port's loop: ``nn.Module`` with ``nn.Parameter`` embeddings,
    ``index_select`` of both embedding rows, ``torch.nn.MSELoss`` on float64 ratings,
    ``optim.SGD``, the rating tensors coalesced and the test loss computed at every step.
    Its bugs are fixed so that it trains the same model (``torch.mse`` does not exist; its
    ``_indices()`` of an uncoalesced tensor paired the ratings with the wrong users);
(c) (a) through ``torch.compile``, its first compilation included and shown apart;
(d) CFModel on notebook 02's other loss, a gather of the observed rows (what scales);
(e) the TensorFlow track's CFModel on the same problem, for comparison across tracks.

The speed-up is (b)/(a); the test MSEs must agree (the same problem from the same start).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import torch

from movierec_helpers.data import load_movielens, split_ratings
from movierec_helpers.models import torch_mf

SEED = 42
ITERATIONS = 1000
DIM, STDDEV, LR = 30, 0.5, 10.0


def _port_loop(train, test, num_users, num_movies, initial_u, initial_v):
    """The port's training loop, bugs fixed, from the given initial embeddings."""

    def sparse(df):  # the port's build_rating_sparse_tensor: float64 values, not coalesced
        return torch.sparse_coo_tensor(df[["user_id", "movie_id"]].to_numpy(np.int64).T,
                                       df["rating"].to_numpy(np.float64), (num_users, num_movies))

    class PortModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.U = torch.nn.Parameter(torch.tensor(initial_u))
            self.V = torch.nn.Parameter(torch.tensor(initial_v))

        def forward(self, ratings):
            return (torch.index_select(self.U, 0, ratings.indices()[0, :])
                    * torch.index_select(self.V, 0, ratings.indices()[1, :])).sum(dim=1)

    a_train, a_test = sparse(train), sparse(test)
    model = PortModel()
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    start = time.perf_counter()
    for _ in range(ITERATIONS):
        predictions = model(a_train.coalesce())
        train_loss = loss_fn(a_train.coalesce().values(), predictions.type(torch.DoubleTensor))
        with torch.no_grad():
            test_predictions = model(a_test.coalesce())
            test_loss = loss_fn(a_test.coalesce().values(), test_predictions.type(torch.DoubleTensor))
        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
    return time.perf_counter() - start, float(test_loss)


def _movierec(train, test, num_users, num_movies, compile_steps=False):
    model = torch_mf.build_model(train, test, num_users, num_movies, embedding_dim=DIM, init_stddev=STDDEV,
                                 seed=SEED, device="cpu", compile=compile_steps)
    initial = model.embeddings
    start = time.perf_counter()
    model.train(10, LR, plot_results=False, progress=False)
    first = time.perf_counter() - start
    start = time.perf_counter()
    results = model.train(ITERATIONS - 10, LR, plot_results=False, progress=False)
    rest = time.perf_counter() - start
    return first, rest, results["test_error"], initial


def _gather_loss(train, test, num_users, num_movies, initial):
    from movierec_helpers.models.torch_cfmodel import CFModel
    from movierec_helpers.models.torch_losses import build_rating_sparse_tensor

    def gather_mse(ratings, U, V):  # notebook 02's exercise 3, as a student writes it
        rows, cols = ratings.indices()
        predictions = (torch.index_select(U, 0, rows) * torch.index_select(V, 0, cols)).sum(dim=1)
        return torch.mean((ratings.values() - predictions) ** 2)

    a_train = build_rating_sparse_tensor(train, num_users, num_movies)
    a_test = build_rating_sparse_tensor(test, num_users, num_movies)
    U = torch.nn.Parameter(torch.tensor(initial["user_id"]))
    V = torch.nn.Parameter(torch.tensor(initial["movie_id"]))
    model = CFModel({"user_id": U, "movie_id": V}, lambda: gather_mse(a_train, U, V),
                    [{"train_error": lambda: gather_mse(a_train, U, V), "test_error": lambda: gather_mse(a_test, U, V)}])
    start = time.perf_counter()
    results = model.train(ITERATIONS, LR, plot_results=False, progress=False)
    return time.perf_counter() - start, results["test_error"]


def _tensorflow_track(train, test, num_users, num_movies):
    from movierec_helpers.models.mf import build_model

    model = build_model(train, test, num_users, num_movies, embedding_dim=DIM, init_stddev=STDDEV, seed=SEED)
    model.train(10, LR, plot_results=False, progress=False)  # tracing, as (a)'s first steps
    start = time.perf_counter()
    results = model.train(ITERATIONS - 10, LR, plot_results=False, progress=False)
    return (time.perf_counter() - start) * ITERATIONS / (ITERATIONS - 10), results["test_error"]


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    print(f"#### PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    data = load_movielens()
    train, test = split_ratings(data.ratings, 0.1, seed=SEED)
    n, m = data.num_users, data.num_movies
    print(f"== PyTorch track: matrix factorization, d={DIM}, lr {LR:g}, init {STDDEV}, {ITERATIONS} iterations ==")
    first, rest, ours_mse, initial = _movierec(train, test, n, m)
    ours = first + rest
    base, base_mse = _port_loop(train, test, n, m, initial["user_id"], initial["movie_id"])
    print(f"(a) movierec CFModel, eager:            {ours:6.2f} s   test MSE {ours_mse:.4f}")
    print(f"(b) the port's loop (bugs fixed):       {base:6.2f} s   test MSE {base_mse:.4f}")
    print(f"speed-up (b)/(a): {base / ours:.1f}x   |test MSE difference|: {abs(ours_mse - base_mse):.4f}")
    first, rest, compiled_mse, _ = _movierec(train, test, n, m, compile_steps=True)
    print(f"(c) CFModel, torch.compile:             {first + rest:6.2f} s   test MSE {compiled_mse:.4f}"
          f"   (compilation + first 10 steps: {first:.2f} s; the other {ITERATIONS - 10}: {rest:.2f} s)")
    gather, gather_mse = _gather_loss(train, test, n, m, initial)
    print(f"(d) CFModel, a student's gather loss:   {gather:6.2f} s   test MSE {gather_mse:.4f}")
    tf_seconds, tf_mse = _tensorflow_track(train, test, n, m)
    print(f"(e) TensorFlow track's CFModel:         {tf_seconds:6.2f} s   test MSE {tf_mse:.4f}")
    print(f"ratios: (b)/(a) {base / ours:.1f}x, (c)/(a) {(first + rest) / ours:.2f}, (d)/(a) {gather / ours:.2f}, "
          f"(e)/(a) {tf_seconds / ours:.2f}")


if __name__ == "__main__":
    main()
