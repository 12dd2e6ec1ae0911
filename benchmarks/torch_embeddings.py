"""Benchmark of notebook 06's embedding models (PyTorch track) (``make bench``), against a plain loop.

Each model of notebook 06 (the dot product, the biased dot product, the deep model; 50 factors,
L2 1e-4) is trained as the notebook trains it: Adam from 0.001 with the notebook's ``LambdaLR``
schedule (x10 in epochs 1-3), batches of 256, 10 epochs, on the seeded 90/10 split, by

(a) the course's loop, :func:`movierec_helpers.models.torch.embeddings.fit_epochs` (the batches
    sliced from a shuffled index on the device, the losses kept on the device and read once per
    epoch, one thread for a model this small on a CPU), with the notebook's fused Adam;
(b) the loop a PyTorch user writes: a ``DataLoader`` over a ``TensorDataset`` (shuffled, batches
    of 256), ``zero_grad``, MSE plus the model's ``penalty()``, ``backward``, ``step``, the loss
    logged with ``.item()`` at every step, the test RMSE after each epoch, PyTorch's own threads;
(b1) the same loop on one thread, to tell the threads' share of (b)'s time from the loop's.

Both start from the same initial module, shuffle in the same order (the same seeded generator
drives ``torch.randperm`` in both) and draw the dropout masks from the same random state. The
speed-up is (b)/(a) in steps per second (goal: 3x); the final test RMSEs must agree within 0.01.
On two cores shared with other work, (b)'s two threads wait for each other at every step and the
loop can fall to a few steps per second: ``--epochs 1`` keeps such a run short.
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from movierec_helpers.data import load_course_data
from movierec_helpers.models.torch import embeddings

SEED = 42
EPOCHS, BATCH, FACTORS, L2 = 10, 256, 50, 1e-4


def schedule(epoch: int) -> float:
    """Notebook 06's schedule: a factor of the initial rate 0.001."""
    return 10.0 if 1 <= epoch <= 3 else 1.0


def _optimizer(model, fused: bool = False):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, fused=fused)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)


def _course(model, train, test) -> tuple[float, float]:
    optimizer, scheduler = _optimizer(model, fused=True)  # as notebook 06's fit
    torch.manual_seed(SEED)
    start = time.perf_counter()
    history = embeddings.fit_epochs(model, optimizer, train, test, EPOCHS, BATCH, scheduler, seed=SEED)
    return time.perf_counter() - start, float(history["val_rmse"].iloc[-1])


def _plain(model, train, test, threads: int | None = None) -> tuple[float, float]:
    """The loop of a PyTorch tutorial: DataLoader, .item() per step, test RMSE per epoch."""
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads or threads_before)
    try:
        return _plain_loop(model, train, test)
    finally:
        torch.set_num_threads(threads_before)


def _plain_loop(model, train, test) -> tuple[float, float]:
    optimizer, scheduler = _optimizer(model)
    loader = DataLoader(
        TensorDataset(*train), batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(SEED)
    )
    torch.manual_seed(SEED)
    start = time.perf_counter()
    for _epoch in range(EPOCHS):
        model.train()
        running = 0.0
        for users, movies, ratings in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(users, movies), ratings) + model.penalty()
            loss.backward()
            optimizer.step()
            running += loss.item()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            test_rmse = torch.sqrt(torch.nn.functional.mse_loss(model(test[0], test[1]), test[2])).item()
    return time.perf_counter() - start, test_rmse


def main() -> None:
    global EPOCHS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs of each run (default 10)")
    parser.add_argument("--models", default="dot,biased,deep", help="comma-separated: dot, biased, deep")
    args = parser.parse_args()
    EPOCHS = args.epochs
    print(
        f"#### PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    data, train_ratings, test_ratings = load_course_data(seed=SEED)
    device = torch.device("cpu")
    train = embeddings.rating_tensors(train_ratings, device)
    test = embeddings.rating_tensors(test_ratings, device)
    mean = float(train_ratings["rating"].mean())
    steps = EPOCHS * int(np.ceil(len(train_ratings) / BATCH))
    print(
        f"== notebook 06's models, {EPOCHS} epochs of batches of {BATCH} ({steps} steps), Adam + LambdaLR =="
    )
    builders = {
        "dot": lambda: embeddings.DotProduct(data.num_users, data.num_movies, FACTORS, L2),
        "biased": lambda: embeddings.BiasedModel(data.num_users, data.num_movies, FACTORS, L2, mean),
        "deep": lambda: embeddings.DeepModel(data.num_users, data.num_movies, FACTORS, L2, mean),
    }
    for name in args.models.split(","):
        torch.manual_seed(SEED)
        initial = builders[name]()
        ours, ours_rmse = _course(copy.deepcopy(initial), train, test)
        print(f"{name:6s} (a) course loop:            {steps / ours:7.1f} steps/s, test RMSE {ours_rmse:.4f}")
        for label, threads in (("(b) plain loop", None), ("(b1) plain loop, 1 thread", 1)):
            base, base_rmse = _plain(copy.deepcopy(initial), train, test, threads)
            print(
                f"{name:6s} {label + ':':27s} {steps / base:7.1f} steps/s, test RMSE {base_rmse:.4f}   "
                f"speed-up {base / ours:.1f}x, |RMSE difference| {abs(ours_rmse - base_rmse):.4f}"
            )


if __name__ == "__main__":
    main()
