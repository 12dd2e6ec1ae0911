"""Benchmarks (``make bench``): figures and ratios against a baseline run in the same process.

1. Matrix factorisation on MovieLens 100K (seeded 90/10 split, d=30, full-batch gradient
   descent, learning rate 10, init std 0.05, 1000 iterations):
   (a) movierec's CFModel with the library's observed MSE;
   (b) the seed notebook's way: a ``tf.compat.v1`` graph and Session, the dense product
       ``matmul(U, V^T)`` then ``gather_nd``, ``GradientDescentOptimizer``.
   (c) CFModel with a student's loss as notebook 02 writes it (``tf.gather`` of the observed
       rows, then the mean squared error), compiled the same way.
2. The softmax model in the seed's configuration (dims 35/3/2, hidden [35], Adagrad lr 8,
   batch 200, 3000 iterations): (a) CFModel with dense bag weights; (b) the seed's way, a TF1
   graph with padded string batches and ``tf.feature_column`` embedding columns.

The CPU model and ``ONEDNN_MAX_CPU_ISA`` are printed first: ``make bench`` runs this twice,
as the CPU is and with ``ONEDNN_MAX_CPU_ISA=AVX2`` (oneDNN's kernels as on a CPU without
AVX-512), so both sets of ratios come from the same machine and the same run.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import tensorflow as tf

from movierec_helpers.data import load_movielens, split_ratings

SEED = 42
ITERATIONS = 1000


def _seed_style_mf(train, test, num_users, num_movies, initial_u, initial_v, lr=10.0):
    """The seed notebook's training loop, kept as a baseline (TF1 graph mode).

    It starts from the same initial embeddings as (a), so both runs optimise the same
    problem from the same point and their test errors must agree.
    """
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():

        def sparse(df):
            return tf.SparseTensor(
                df[["user_id", "movie_id"]].to_numpy(np.int64),
                df["rating"].to_numpy(np.float32),
                [num_users, num_movies],
            )

        a_train, a_test = sparse(train), sparse(test)
        U = v1.Variable(initial_u)
        V = v1.Variable(initial_v)

        def mse(a):
            predictions = tf.gather_nd(tf.matmul(U, V, transpose_b=True), a.indices)
            return v1.losses.mean_squared_error(a.values, predictions)

        train_loss, test_loss = mse(a_train), mse(a_test)
        step = v1.train.GradientDescentOptimizer(lr).minimize(train_loss)
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            start = time.perf_counter()
            for _ in range(ITERATIONS + 1):
                # As the seed: metrics are fetched with every step, printed every 10th.
                _, results = session.run((step, {"train": train_loss, "test": test_loss}))
            seconds = time.perf_counter() - start
    return seconds, float(results["test"])


def _movierec_mf(train, test, num_users, num_movies):
    from movierec_helpers.models.tensorflow.mf import build_model

    warm_up = build_model(train, test, num_users, num_movies, embedding_dim=30, init_stddev=0.05, seed=SEED)
    start = time.perf_counter()
    warm_up.train(10, 10.0, plot_results=False, progress=False)
    tracing = time.perf_counter() - start
    model = build_model(train, test, num_users, num_movies, embedding_dim=30, init_stddev=0.05, seed=SEED)
    initial = model.embeddings
    # Like the baseline's graph construction, tracing is paid once per model: a 10-step
    # call first, then the timed 1000 steps (the model starts at iteration 10, so train
    # 990 more after a 10-step warm-up on the same model).
    model.train(10, 10.0, plot_results=False, progress=False)
    start = time.perf_counter()
    results = model.train(ITERATIONS - 10, 10.0, plot_results=False, progress=False)
    seconds = (time.perf_counter() - start) * ITERATIONS / (ITERATIONS - 10)
    return seconds, results["test_error"], model.device, tracing, initial


def _student_loss_mf(train, test, num_users, num_movies, initial_u, initial_v):
    """CFModel on notebook 02's gather-based loss, from the same initial embeddings as (a)."""
    from movierec_helpers.models.tensorflow.cfmodel import CFModel
    from movierec_helpers.models.tensorflow.losses import build_rating_sparse_tensor

    def gather_mse(sparse_ratings, user_embeddings, movie_embeddings):
        users = tf.gather(user_embeddings, sparse_ratings.indices[:, 0])
        movies = tf.gather(movie_embeddings, sparse_ratings.indices[:, 1])
        predictions = tf.reduce_sum(users * movies, axis=1)
        return tf.reduce_mean(tf.square(sparse_ratings.values - predictions))

    a_train = build_rating_sparse_tensor(train, num_users, num_movies)
    a_test = build_rating_sparse_tensor(test, num_users, num_movies)
    U, V = tf.Variable(initial_u), tf.Variable(initial_v)

    def train_error():
        return gather_mse(a_train, U, V)

    def test_error():
        return gather_mse(a_test, U, V)

    model = CFModel(
        {"user_id": U, "movie_id": V}, train_error, [{"train_error": train_error, "test_error": test_error}]
    )
    model.train(10, 10.0, plot_results=False, progress=False)  # tracing and compilation apart, as in (a)
    start = time.perf_counter()
    results = model.train(ITERATIONS - 10, 10.0, plot_results=False, progress=False)
    return (time.perf_counter() - start) * ITERATIONS / (ITERATIONS - 10), results["test_error"]


def cpu_model() -> str:
    """The CPU's model name (as ``lscpu`` prints it)."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _seed_style_softmax(data, iterations=3000):
    """The seed notebook's softmax model, its way: TF1 graph, padded string batches, feature columns."""
    import pandas as pd

    v1 = tf.compat.v1
    movies = data.movies.assign(
        movie_key=data.movies["movie_id"].astype(str),
        year_key=[("unknown" if pd.isna(y) else str(y)) for y in data.movies["year"]],
    )
    years = dict(zip(movies["movie_key"], movies["year_key"]))
    genres = dict(zip(movies["movie_key"], movies["genres"]))
    rated = (
        data.ratings.assign(movie_key=data.ratings["movie_id"].astype(str))
        .groupby("user_id")["movie_key"]
        .agg(list)
    )
    order = np.random.default_rng(SEED).permutation(len(rated))
    test_users, train_users = rated.iloc[order[:94]], rated.iloc[order[94:]]

    def pad(lists, fill):
        width = max(len(row) for row in lists)
        return np.array([list(row) + [fill] * (width - len(row)) for row in lists])

    def make_batch(lists, batch_size):
        features = {
            "movie_id": pad(list(lists), ""),
            "genre": pad([[g for m in ms for g in genres[m]] for ms in lists], ""),
            "year": pad([[years[m] for m in ms] for ms in lists], ""),
            "label": pad([[int(m) for m in ms] for ms in lists], -1).astype(np.int64),
        }
        dataset = (
            tf.data.Dataset.from_tensor_slices(features).shuffle(1000, seed=SEED).repeat().batch(batch_size)
        )
        return v1.data.make_one_shot_iterator(dataset).get_next()

    def select_random(x):
        nnz = tf.cast(tf.math.count_nonzero(x >= 0, axis=1), tf.float32)
        picks = tf.cast(nnz * v1.random_uniform(tf.shape(nnz)), tf.int64)
        rows = tf.range(tf.shape(x, out_type=tf.int64)[0])
        return tf.gather_nd(x, tf.stack([rows, picks], 1))

    def column(key, values, dim):
        categorical = tf.feature_column.categorical_column_with_vocabulary_list(key, sorted(set(values)))
        return tf.feature_column.embedding_column(categorical, dim, combiner="mean")

    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(SEED)
        columns = [
            column("movie_id", movies["movie_key"], 35),
            column("genre", [g for gs in movies["genres"] for g in gs], 3),
            column("year", movies["year_key"], 2),
        ]

        def network(features):
            layer = v1.feature_column.input_layer(features, columns)
            w = v1.get_variable(
                "hidden0", [40, 35], initializer=v1.truncated_normal_initializer(stddev=1 / np.sqrt(35))
            )
            return tf.matmul(layer, w / 10.0)

        train_batch, test_batch = make_batch(train_users, 200), make_batch(test_users, 100)
        with v1.variable_scope("model", reuse=False):
            train_psi = network(train_batch)
        with v1.variable_scope("model", reuse=True):
            test_psi = network(test_batch)
            movie_table = v1.get_variable("input_layer/movie_id_embedding/embedding_weights")

        def loss(psi, labels):
            logits = tf.matmul(psi, movie_table, transpose_b=True)
            return tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )

        train_loss = loss(train_psi, select_random(train_batch["label"]))
        test_loss = loss(test_psi, select_random(test_batch["label"]))
        step = v1.train.AdagradOptimizer(8.0).minimize(train_loss)
        with v1.Session(graph=graph) as session:
            session.run([v1.global_variables_initializer(), v1.tables_initializer()])
            start = time.perf_counter()
            for _ in range(iterations + 1):
                _, results = session.run((step, {"train_loss": train_loss, "test_loss": test_loss}))
            seconds = time.perf_counter() - start
    return seconds, results


def _movierec_softmax(data):
    from movierec_helpers.models.tensorflow.softmax import build_softmax_model, build_user_features

    features = build_user_features(data.ratings, data.movies)
    model, _ = build_softmax_model(
        features, embedding_dims={"movie_id": 35, "genre": 3, "year": 2}, hidden_dims=[35], seed=SEED
    )
    start = time.perf_counter()
    results = model.train(3000, 8.0, optimizer="adagrad", plot_results=False, progress=False, log_every=50)
    return time.perf_counter() - start, results


def main() -> None:
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "as the CPU is")
    print(f"#### {cpu_model()}, {os.cpu_count()} cores, ONEDNN_MAX_CPU_ISA: {isa}")
    data = load_movielens()
    train, test = split_ratings(data.ratings, 0.1, seed=SEED)
    print("== Matrix factorization, MovieLens 100K, d=30, lr 10, init 0.05, 1000 iterations ==")
    ours, ours_mse, device, tracing, initial = _movierec_mf(train, test, data.num_users, data.num_movies)
    base, base_mse = _seed_style_mf(
        train, test, data.num_users, data.num_movies, initial["user_id"], initial["movie_id"]
    )
    print(
        f"(a) movierec CFModel ({device}):         {ours:6.2f} s   test MSE {ours_mse:.4f}"
        f"   (one-off tracing + first 10 steps: {tracing:.2f} s)"
    )
    print(f"(b) seed-style tf.compat.v1 Session:    {base:6.2f} s   test MSE {base_mse:.4f}")
    print(f"speed-up (b)/(a): {base / ours:.1f}x   |test MSE difference|: {abs(ours_mse - base_mse):.4f}")
    student, student_mse = _student_loss_mf(
        train, test, data.num_users, data.num_movies, initial["user_id"], initial["movie_id"]
    )
    print(f"(c) CFModel, a student's gather loss:   {student:6.2f} s   test MSE {student_mse:.4f}")
    print(f"speed-up (b)/(c): {base / student:.1f}x")
    print("== Softmax model, seed configuration, 3000 iterations ==")
    seconds, results = _movierec_softmax(data)
    print(
        f"(a) movierec CFModel:               {seconds:6.2f} s   train_loss={results['train_loss']:.3f}, "
        f"test_loss={results['test_loss']:.3f}"
    )
    base, base_results = _seed_style_softmax(data)
    print(
        f"(b) seed-style TF1 feature columns: {base:6.2f} s   train_loss={base_results['train_loss']:.3f}, "
        f"test_loss={base_results['test_loss']:.3f}"
    )
    print(f"speed-up (b)/(a): {base / seconds:.1f}x")


if __name__ == "__main__":
    main()
