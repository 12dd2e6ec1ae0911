"""How training cost grows with the data (part of ``make bench``).

Synthetic rating matrices with MovieLens-like skew (power-law popularity of items and
activity of users) at 0.1M, 1M and 10M ratings; users and items grow by sqrt(10) per step
so that the density stays that of MovieLens 100K (6.3%). For each size, in a fresh process
(so peak memory is per size): seconds per full-batch CFModel gradient-descent iteration and
per WALS sweep (d=32), and the process's peak resident memory. The fitted exponent of
time against ratings shows whether cost grows linearly.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = (100_000, 1_000_000, 10_000_000)
BASE_USERS, BASE_MOVIES = 943, 1682
DIM = 32


def synthetic_ratings(num_ratings: int, seed: int = 0):
    """(users, movies, ratings, num_users, num_movies) with power-law skew, deduplicated."""
    scale = np.sqrt(num_ratings / 100_000)
    num_users, num_movies = int(BASE_USERS * scale), int(BASE_MOVIES * scale)
    rng = np.random.default_rng(seed)
    user_weights = 1.0 / np.arange(1, num_users + 1) ** 0.5
    movie_weights = 1.0 / np.arange(1, num_movies + 1) ** 0.9
    draw = int(num_ratings * 1.6)  # over-draw, then drop duplicate pairs
    users = rng.choice(num_users, draw, p=user_weights / user_weights.sum())
    movies = rng.choice(num_movies, draw, p=movie_weights / movie_weights.sum())
    _, first = np.unique(users.astype(np.int64) * num_movies + movies, return_index=True)
    keep = np.sort(first)[:num_ratings]
    values = rng.integers(1, 6, len(keep)).astype(np.float32)
    return users[keep], movies[keep], values, num_users, num_movies


def measure(num_ratings: int) -> dict:
    """Times both methods at one size (run in a fresh process)."""
    import tensorflow as tf

    from movierec_helpers.models.tensorflow.cfmodel import CFModel
    from movierec_helpers.models.tensorflow.losses import sparse_mean_square_error
    from movierec_helpers.models.tensorflow.wals import WALS, WALSWeights

    users, movies, values, n, m = synthetic_ratings(num_ratings)
    A = tf.sparse.reorder(tf.SparseTensor(np.stack([users, movies], 1).astype(np.int64), values, [n, m]))
    gen = tf.random.Generator.from_seed(0)
    U = tf.Variable(gen.normal([n, DIM], stddev=0.05))
    V = tf.Variable(gen.normal([m, DIM], stddev=0.05))
    model = CFModel(
        {"user_id": U, "movie_id": V}, lambda: sparse_mean_square_error(A, U, V), jit_compile=False
    )
    iterations = max(5, int(2_000_000 / num_ratings))
    model.train(2, 1.0, plot_results=False, progress=False, log_every=2)  # tracing
    start = time.perf_counter()
    model.train(iterations, 1.0, plot_results=False, progress=False, log_every=iterations)
    gd = (time.perf_counter() - start) / iterations
    wals = WALS(A, DIM, WALSWeights(gravity=0.01, user_l2=1.0, movie_l2=1.0), seed=0)
    wals.sweep(1)  # tracing
    sweeps = 3 if num_ratings <= 1_000_000 else 1
    start = time.perf_counter()
    wals.sweep(sweeps)
    sweep = (time.perf_counter() - start) / sweeps
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "ratings": len(values),
        "users": n,
        "movies": m,
        "gd_iteration_s": gd,
        "wals_sweep_s": sweep,
        "peak_rss_mb": peak_mb,
    }


def main() -> None:
    print(f"== Scaling: synthetic MovieLens-like data, d={DIM}, one fresh process per size ==")
    rows = []
    for size in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)], check=True, capture_output=True, text=True
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        r = rows[-1]
        dense_gb = r["users"] * r["movies"] * 4 / 1e9
        print(
            f"{r['ratings']:>11,} ratings {r['users']:>6} x {r['movies']:>6} (dense would be "
            f"{dense_gb:5.2f} GB): "
            f"GD iteration {r['gd_iteration_s'] * 1000:8.1f} ms, WALS sweep {r['wals_sweep_s']:7.2f} s, "
            f"peak RSS {r['peak_rss_mb']:7.0f} MB"
        )
    ratings = np.log([r["ratings"] for r in rows])
    for key, label in (("gd_iteration_s", "GD iteration"), ("wals_sweep_s", "WALS sweep")):
        slope = np.polyfit(ratings, np.log([r[key] for r in rows]), 1)[0]
        print(f"fitted exponent of time vs ratings, {label}: {slope:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main()
