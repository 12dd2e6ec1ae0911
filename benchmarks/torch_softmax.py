"""Benchmark of the PyTorch track's softmax model (notebook 05, ``make bench``) against a plain PyTorch loop.

Google's course's configuration (embedding dimensions 35/3/2, one hidden layer of 35 used scaled by
0.1, Adagrad with learning rate 8 and accumulators from 0.1, batches of 200 training users with
one rated movie each as the label, 3000 steps, test metrics every 50 steps), the same user split,
from the same initial weights:

(a) the course's model: ``models.torch.softmax.build_softmax_model`` through ``CFModel`` (dense
    bag-weight rows gathered on the device, the batch and its labels drawn by tensor operations,
    the losses kept on the device between logging points);
(b) the loop a PyTorch user writes for the same model: an ``nn.Module`` of three
    ``nn.EmbeddingBag(mode="mean")`` and an ``nn.Linear``, ``torch.optim.Adagrad``; every step
    builds the flat ids and offsets of the bags in Python lists and logs the loss with
    ``.item()``; the train and test losses every 50 steps. Its users and labels are (a)'s draws
    (the library's sampler, same random state), so that both runs take the same steps; on
    PyTorch's own thread count (what its user gets), and (b') on one thread (what (a) uses for a
    model this small on a CPU).

Both are then measured the same deterministic way: the cross-entropy of every (test user, rated
movie) pair, and notebook 05's leak-free recall@10 (each test user's 20% hidden movies ranked from
the other 80%). The speed-up is (b)/(a) and (b')/(a) in steps per second; the goal is 3x at the
same test figures (within 0.01). CPU seconds are printed too: on cores shared with other jobs the
load moves between the runs, and the ratio of CPU time is the steadier one. With batches of their
own the two would not compare: (a) alone, drawing other batches, ends at a test cross-entropy of
5.75-5.83 and a recall@10 of 0.165-0.193 (Adagrad's last steps at learning rate 8).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import torch

from movierec_helpers.data import load_movielens
from movierec_helpers.evaluation.ranking import holdout_per_user, rank_against_heldout
from movierec_helpers.models.torch.device import default_device
from movierec_helpers.models.torch.softmax import (
    HIDDEN_SCALE,
    SoftmaxNetwork,
    batch_sampler,
    build_softmax_model,
    build_user_features,
    user_split,
)

SEED = 42
STEPS, LOG_EVERY, LR = 3000, 50, 8.0
DIMS = {"movie_id": 35, "genre": 3, "year": 2}
BATCH, TEST_BATCH = 200, 100


class PlainSoftmaxModel(torch.nn.Module):
    """The same model as a PyTorch user writes it: embedding bags, a linear layer, V as softmax weights."""

    def __init__(self, vocab_sizes: dict[str, int]) -> None:
        super().__init__()
        self.bags = torch.nn.ModuleDict(
            {name: torch.nn.EmbeddingBag(vocab_sizes[name], dim, mode="mean") for name, dim in DIMS.items()}
        )
        self.hidden = torch.nn.Linear(sum(DIMS.values()), DIMS["movie_id"], bias=False)

    def forward(self, bags: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        x = torch.cat([self.bags[name](*bags[name]) for name in DIMS], dim=1)
        return self.hidden(x) * HIDDEN_SCALE

    def logits(self, bags) -> torch.Tensor:
        return self(bags) @ self.bags["movie_id"].weight.T


def _plain_loop(
    features, train_rows, test_rows, initial: SoftmaxNetwork, device
) -> tuple[float, float, PlainSoftmaxModel]:
    """(b): Python-built batches, ``.item()`` per step; returns wall and CPU seconds, and the module."""
    model = PlainSoftmaxModel({n: len(features.vocabularies[n]) for n in DIMS}).to(device)
    with torch.no_grad():
        for name in DIMS:
            model.bags[name].weight.copy_(initial.tables[name].weight)
        model.hidden.weight.copy_(initial.hidden[0].weight)
    bags_of = {
        name: [
            ids.tolist()
            for ids in np.split(features.ids[name].cpu().numpy(), features.splits[name].cpu().numpy()[1:-1])
        ]
        for name in DIMS
    }
    # The same users and labels as (a), in the same order (its sampler, with the draws of its metric
    # evaluations: a train and two test batches at the start and every LOG_EVERY steps): both runs
    # then take the same steps, and their test figures differ only by float round-off.
    sample = batch_sampler(features, SEED + 1)
    train_users, test_users = (torch.as_tensor(rows, device=device) for rows in (train_rows, test_rows))

    def batch(users, size):
        picked, labels = sample(users, size)
        inputs = {}
        for name in DIMS:
            flat, offsets = [], []
            for user in picked.tolist():
                offsets.append(len(flat))
                flat.extend(bags_of[name][user])
            inputs[name] = (torch.tensor(flat, device=device), torch.tensor(offsets, device=device))
        return inputs, labels

    def evaluate():
        with torch.no_grad():
            train_inputs, train_labels = batch(train_users, BATCH)
            train_loss = torch.nn.functional.cross_entropy(model.logits(train_inputs), train_labels).item()
            test_inputs, test_labels = batch(test_users, TEST_BATCH)
            test_loss = torch.nn.functional.cross_entropy(model.logits(test_inputs), test_labels).item()
            batch(test_users, TEST_BATCH)  # (a)'s ranking metrics draw a test batch too
        return train_loss, test_loss

    optimizer = torch.optim.Adagrad(model.parameters(), lr=LR, initial_accumulator_value=0.1)
    losses, logged = [], []
    start, cpu_start = time.perf_counter(), time.process_time()
    logged.append(evaluate())
    for step in range(STEPS):
        inputs, labels = batch(train_users, BATCH)
        loss = torch.nn.functional.cross_entropy(model.logits(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (step + 1) % LOG_EVERY == 0:
            logged.append(evaluate())
    return time.perf_counter() - start, time.process_time() - cpu_start, model


def _as_network(model: PlainSoftmaxModel, features) -> SoftmaxNetwork:
    """The plain module's weights in a SoftmaxNetwork, so that both are measured by one function."""
    network = SoftmaxNetwork({n: len(features.vocabularies[n]) for n in DIMS}, DIMS, [DIMS["movie_id"]], SEED)
    with torch.no_grad():
        for name in DIMS:
            network.tables[name].weight.copy_(model.bags[name].weight.cpu())
        network.hidden[0].weight.copy_(model.hidden.weight.cpu())
    return network


def _test_figures(network: SoftmaxNetwork, data, features, test_rows) -> tuple[float, float]:
    """Cross-entropy of every (test user, rated movie) pair, and notebook 05's leak-free recall@10."""
    network = network.cpu()
    with torch.no_grad():
        cpu_features = build_user_features(data.ratings, data.movies, device="cpu")
        rows = torch.as_tensor(test_rows)
        log_p = torch.log_softmax(network(cpu_features.take(rows)) @ network.movie_embeddings.T, dim=1)
        mask = cpu_features.bag_weights["movie_id"][rows] > 0
        cross_entropy = float((-(log_p * mask).sum(1) / mask.sum(1)).mean())
        test_users = features.user_ids[test_rows]
        inputs, heldout = holdout_per_user(
            data.ratings[data.ratings["user_id"].isin(test_users)], fraction=0.2, seed=SEED
        )
        input_features = build_user_features(inputs, data.movies, device="cpu")
        psi = network(input_features.take(torch.arange(input_features.num_rows)))
        scores = (psi @ network.movie_embeddings.T).numpy()
    recall = rank_against_heldout(scores, inputs, heldout, input_features.user_ids)["recall@10"]
    return cross_entropy, recall


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)
    device = default_device()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"#### PyTorch {torch.__version__}, {device}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} cores, load average {load}"
    )
    data = load_movielens()
    features = build_user_features(data.ratings, data.movies, device=device)
    train_rows, test_rows = user_split(features, seed=SEED)
    print(f"== Softmax model (notebook 05), Google's course's configuration, {STEPS} steps ==")
    model, network = build_softmax_model(
        features, embedding_dims=DIMS, hidden_dims=[DIMS["movie_id"]], seed=SEED
    )
    initial = SoftmaxNetwork(
        {n: len(features.vocabularies[n]) for n in DIMS}, DIMS, [DIMS["movie_id"]], SEED
    ).to(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    model.train(STEPS, LR, optimizer="adagrad", plot_results=False, progress=False, log_every=LOG_EVERY)
    ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    ours_ce, ours_recall = _test_figures(network, data, features, test_rows)
    print(
        f"(a)  the course's model, CFModel:            {ours:6.2f} s  {STEPS / ours:6.0f} steps/s  "
        f"(CPU {ours_cpu:6.2f} s)   "
        f"test cross-entropy {ours_ce:.4f}   leak-free recall@10 {ours_recall:.4f}"
    )
    threads = torch.get_num_threads()
    for label, count in (("(b) ", threads), ("(b')", 1)):
        torch.set_num_threads(count)
        plain, plain_cpu, plain_model = _plain_loop(features, train_rows, test_rows, initial, device)
        torch.set_num_threads(threads)
        plain_ce, plain_recall = _test_figures(_as_network(plain_model, features), data, features, test_rows)
        print(
            f"{label} a plain PyTorch loop, {count} thread(s): {plain:6.2f} s  {STEPS / plain:6.0f} steps/s"
            f"  (CPU {plain_cpu:6.2f} s)   "
            f"test cross-entropy {plain_ce:.4f}   leak-free recall@10 {plain_recall:.4f}"
        )
        print(
            f"speed-up {label.strip()}/(a): {plain / ours:.1f}x (goal 3x; CPU time "
            f"{plain_cpu / ours_cpu:.1f}x)   "
            "|test cross-entropy difference| "
            f"{abs(ours_ce - plain_ce):.4f}   |recall@10 difference| {abs(ours_recall - plain_recall):.4f} "
            "(goal 0.01)"
        )


if __name__ == "__main__":
    main()
