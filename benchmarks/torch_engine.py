"""Benchmark of the PyTorch track's training loop (``make bench``), against the port's loop.

Matrix factorisation on MovieLens 100K as notebook 02 (PyTorch track) trains it and as the
PyTorch port of Google's course did (seeded 90/10 split, d=30, full-batch gradient descent,
learning rate 10, init std 0.5, 1000 iterations), every run from the same initial embeddings:

(a) movierec's PyTorch CFModel with the library's observed MSE (``torch_mf.build_model``:
    its gradient is two sparse-dense products), eager steps, metrics every 10 steps;
(b) a faithful copy of the port's loop: ``nn.Module`` with ``nn.Parameter`` embeddings,
    ``index_select`` of both embedding rows, ``torch.nn.MSELoss`` on float64 ratings,
    ``optim.SGD``, the rating tensors coalesced and the test loss computed at every step.
    Its bugs are fixed so that it trains the same model (``torch.mse`` does not exist; its
    ``_indices()`` of an uncoalesced tensor paired the ratings with the wrong users);
(c) CFModel on a student's loss as notebook 02 asks for it (the dense product, then the
    observed entries), eager, and (c') the same through ``torch.compile``, its first
    compilation included and shown apart (the library's loss is a custom autograd function,
    which torch.compile does not trace);
(d) CFModel on notebook 02's other loss, a gather of the observed rows (what scales);
(e) the TensorFlow track's CFModel on the same problem, for comparison across tracks;
(f) notebook 02's graded training loop as a student writes it (``fit``: ``zero_grad``,
    ``mse_loss`` of the module's gathered predictions, ``backward``, ``step``, the losses kept
    as tensors), against the library's loop on the same ``MatrixFactorization`` from the same
    start, ``FIT_STEPS`` steps each; and (f') the same student loop reading ``.item()`` per step;
(g) notebook 04's regularized model, 400 steps (as graded): the library's loop on one thread (its default
    for the course's models on a CPU) against PyTorch's own thread count.

The speed-up is (b)/(a); the test MSEs must agree (the same problem from the same start).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import torch

from movierec_helpers.data import load_movielens, split_ratings
from movierec_helpers.models.torch import mf as torch_mf

SEED = 42
ITERATIONS = 1000
FIT_STEPS = 200
DIM, STDDEV, LR = 30, 0.5, 10.0


def _port_loop(train, test, num_users, num_movies, initial_u, initial_v):
    """The port's training loop, bugs fixed, from the given initial embeddings."""

    def sparse(df):  # the port's build_rating_sparse_tensor: float64 values, not coalesced
        return torch.sparse_coo_tensor(
            df[["user_id", "movie_id"]].to_numpy(np.int64).T,
            df["rating"].to_numpy(np.float64),
            (num_users, num_movies),
        )

    class PortModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.U = torch.nn.Parameter(torch.tensor(initial_u))
            self.V = torch.nn.Parameter(torch.tensor(initial_v))

        def forward(self, ratings):
            return (
                torch.index_select(self.U, 0, ratings.indices()[0, :])
                * torch.index_select(self.V, 0, ratings.indices()[1, :])
            ).sum(dim=1)

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


def _movierec(train, test, num_users, num_movies):
    model = torch_mf.build_model(
        train, test, num_users, num_movies, embedding_dim=DIM, init_stddev=STDDEV, seed=SEED, device="cpu"
    )
    initial = model.embeddings
    start = time.perf_counter()
    results = model.train(ITERATIONS, LR, plot_results=False, progress=False)
    return time.perf_counter() - start, results["test_error"], initial


def _dense_mse(ratings, U, V):  # notebook 02's exercise 2, as a student writes it
    rows, cols = ratings.indices()
    return torch.mean((ratings.values() - (U @ V.T)[rows, cols]) ** 2)


def _gather_mse(ratings, U, V):  # notebook 02's exercise 3, as a student writes it
    rows, cols = ratings.indices()
    predictions = (torch.index_select(U, 0, rows) * torch.index_select(V, 0, cols)).sum(dim=1)
    return torch.mean((ratings.values() - predictions) ** 2)


def _student_loss(train, test, num_users, num_movies, initial, mse, compile_steps=False):
    """CFModel on a student's loss; returns (first 10 steps, the other steps, test MSE)."""
    from movierec_helpers.models.torch.cfmodel import CFModel
    from movierec_helpers.models.torch.losses import build_rating_sparse_tensor

    a_train = build_rating_sparse_tensor(train, num_users, num_movies)
    a_test = build_rating_sparse_tensor(test, num_users, num_movies)
    U = torch.nn.Parameter(torch.tensor(initial["user_id"]))
    V = torch.nn.Parameter(torch.tensor(initial["movie_id"]))
    model = CFModel(
        {"user_id": U, "movie_id": V},
        lambda: mse(a_train, U, V),
        [{"train_error": lambda: mse(a_train, U, V), "test_error": lambda: mse(a_test, U, V)}],
        compile=compile_steps,
    )
    start = time.perf_counter()
    model.train(10, LR, plot_results=False, progress=False)
    first = time.perf_counter() - start
    start = time.perf_counter()
    results = model.train(ITERATIONS - 10, LR, plot_results=False, progress=False)
    return first, time.perf_counter() - start, results["test_error"]


def _tensorflow_track(train, test, num_users, num_movies):
    from movierec_helpers.models.tensorflow.mf import build_model

    model = build_model(train, test, num_users, num_movies, embedding_dim=DIM, init_stddev=STDDEV, seed=SEED)
    model.train(10, LR, plot_results=False, progress=False)  # tracing, as (a)'s first steps
    start = time.perf_counter()
    results = model.train(ITERATIONS - 10, LR, plot_results=False, progress=False)
    return (time.perf_counter() - start) * ITERATIONS / (ITERATIONS - 10), results["test_error"]


def _fit_against_library(train, test, num_users, num_movies):
    """(f), (f'): a student's loop and the library's on twins of one module; seconds and test MSEs."""
    from movierec_helpers.models.torch.training import fit, train_step

    def twin():
        return torch_mf.build_model(
            train, test, num_users, num_movies, embedding_dim=DIM, init_stddev=STDDEV, seed=SEED, device="cpu"
        )

    batch = (
        torch.tensor(train["user_id"].to_numpy()),
        torch.tensor(train["movie_id"].to_numpy()),
        torch.tensor(train["rating"].to_numpy(np.float32)),
    )
    timings = {}
    for name in ("library", "fit", "fit, .item() per step"):
        model = twin()
        optimizer = torch.optim.SGD(model.module.parameters(), lr=LR)
        start = time.perf_counter()
        if name == "library":
            model.train(FIT_STEPS, optimizer=optimizer, plot_results=False, progress=False)
        elif name == "fit":
            fit(model.module, optimizer, batch, FIT_STEPS)
        else:
            [train_step(model.module, optimizer, batch).item() for _ in range(FIT_STEPS)]
        timings[name] = (time.perf_counter() - start, model.evaluate()["test_error"])
    return timings


def _threads(train, test, num_users, num_movies, steps=400):
    """(g): notebook 04's training cell as grading runs it (400 steps), one thread against PyTorch's count."""
    found = {}
    for threads in (1, torch.get_num_threads()):
        model = torch_mf.build_regularized_model(
            train, test, num_users, num_movies, embedding_dim=35, init_stddev=0.05, seed=SEED, device="cpu"
        )
        model._cpu_threads = threads
        start = time.perf_counter()
        results = model.train(steps, 20.0, plot_results=False, progress=False)
        found[threads] = (time.perf_counter() - start, results["test_error_observed"])
    return found


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    print(f"#### PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    data = load_movielens()
    train, test = split_ratings(data.ratings, 0.1, seed=SEED)
    n, m = data.num_users, data.num_movies
    print(
        f"== PyTorch track: matrix factorization, d={DIM}, lr {LR:g}, init {STDDEV}, {ITERATIONS} "
        "iterations =="
    )
    ours, ours_mse, initial = _movierec(train, test, n, m)
    base, base_mse = _port_loop(train, test, n, m, initial["user_id"], initial["movie_id"])
    print(f"(a) movierec CFModel, library loss:     {ours:6.2f} s   test MSE {ours_mse:.4f}")
    print(f"(b) the port's loop (bugs fixed):       {base:6.2f} s   test MSE {base_mse:.4f}")
    print(f"speed-up (b)/(a): {base / ours:.1f}x   |test MSE difference|: {abs(ours_mse - base_mse):.4f}")
    first, rest, dense_mse = _student_loss(train, test, n, m, initial, _dense_mse)
    dense = first + rest
    print(f"(c) CFModel, a student's dense loss:    {dense:6.2f} s   test MSE {dense_mse:.4f}")
    first, rest, compiled_mse = _student_loss(train, test, n, m, initial, _dense_mse, compile_steps=True)
    compiled = first + rest
    print(
        f"(c') the same through torch.compile:    {compiled:6.2f} s   test MSE {compiled_mse:.4f}"
        f"   (compilation + first 10 steps: {first:.2f} s; the other {ITERATIONS - 10}: {rest:.2f} s)"
    )
    first, rest, gather_mse = _student_loss(train, test, n, m, initial, _gather_mse)
    gather = first + rest
    print(f"(d) CFModel, a student's gather loss:   {gather:6.2f} s   test MSE {gather_mse:.4f}")
    tf_seconds, tf_mse = _tensorflow_track(train, test, n, m)
    print(f"(e) TensorFlow track's CFModel:         {tf_seconds:6.2f} s   test MSE {tf_mse:.4f}")
    print(
        f"ratios to (a): (b) {base / ours:.1f}x, (c) {dense / ours:.2f}, (c') {compiled / ours:.2f}, "
        f"(d) {gather / ours:.2f}, (e) {tf_seconds / ours:.2f}; (b)/(c) {base / dense:.1f}x"
    )
    print(f"== notebook 02's fit and the library's loop, {FIT_STEPS} steps each, same module and start ==")
    timings = _fit_against_library(train, test, n, m)
    lib_seconds, lib_mse = timings["library"]
    for label, (seconds, mse) in timings.items():
        print(
            f"(f) {label:24s} {seconds:6.2f} s   test MSE {mse:.4f}   ({seconds / lib_seconds:.2f}x the "
            f"library; |test MSE difference| {abs(mse - lib_mse):.1e})"
        )
    print("== notebook 04's training cell, 400 steps (as graded): threads of the library's loop ==")
    for threads, (seconds, mse) in _threads(train, test, n, m).items():
        print(f"(g) {threads} thread(s): {seconds:6.2f} s   test MSE (observed) {mse:.4f}")


if __name__ == "__main__":
    main()
