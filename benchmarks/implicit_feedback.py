"""The course's implicit-feedback models against the `implicit` library (part of ``make bench``).

Same interactions (MovieLens 100K, each user's 10 latest ratings held out by time, the
ratings as values), same settings: weighted ALS with d=32, alpha=1, lambda=1, and BPR with
d=32. Figures: ALS seconds per sweep (users then items) and Recall@20 after the same number of
sweeps; BPR epochs per second and Recall@20 after the same number of epochs. The `implicit`
library (0.7.x, C++/Cython) runs with one thread and with all cores, its ALS with the exact
Cholesky solve (as the course's) and with its default conjugate gradient. Both read the
confidence as ``1 + alpha * r``; BLAS runs on one thread (as `implicit` asks). `implicit` is a
maintainer's extra (``.[bench]``), never part of the student install.
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from movierec_helpers.data import load_movielens, temporal_holdout
from movierec_helpers.evaluation.ranking import rank_against_heldout
from movierec_helpers.models.implicit.als import fit_als
from movierec_helpers.models.implicit.bpr import fit_bpr
from movierec_helpers.models.implicit.interactions import interaction_matrix

FACTORS, ALPHA, LAM, SWEEPS, EPOCHS = 32, 1.0, 1.0, 6, 20


def recall(user_factors, item_factors, train, test, num_users) -> float:
    users = np.arange(num_users)
    scores = np.asarray(user_factors) @ np.asarray(item_factors).T
    return rank_against_heldout(scores, train, test, users, k=20)["recall@20"]


def timed(fit):
    start = time.perf_counter()
    out = fit()
    return out, time.perf_counter() - start


def main() -> None:
    # implicit asks for one BLAS thread (its own threads do the work); the course's small solves
    # gain nothing from more, so both run under the same limit.
    threadpool_limits(1, "blas")
    import implicit
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking

    data = load_movielens(genre_seed=42)
    train, test = temporal_holdout(data.ratings, num_heldout=10)
    R = interaction_matrix(train, data.num_users, data.num_movies)
    args = (train, test, data.num_users)
    print(f"MovieLens 100K, {R.nnz} training interactions; implicit {implicit.__version__}")

    (X, Y), seconds = timed(lambda: fit_als(R, FACTORS, ALPHA, LAM, SWEEPS, seed=42))
    course_sweep = seconds / SWEEPS
    course_recall = recall(X, Y, *args)
    print(
        f"ALS, course (NumPy):            {course_sweep * 1000:7.1f} ms/sweep, Recall@20 {course_recall:.3f}"
    )
    for threads, cg in ((1, False), (0, False), (1, True)):
        model = AlternatingLeastSquares(
            factors=FACTORS,
            regularization=LAM,
            alpha=ALPHA,
            iterations=SWEEPS,
            use_cg=cg,
            num_threads=threads,
            random_state=42,
            calculate_training_loss=False,
        )
        _, seconds = timed(lambda model=model: model.fit(R, show_progress=False))
        what = (
            f"implicit, {'CG' if cg else 'Cholesky'}, {threads or 'all'} thread{'s' if threads != 1 else ''}"
        )
        per_sweep = seconds / SWEEPS
        print(
            f"ALS, {what:<27}{per_sweep * 1000:7.1f} ms/sweep ({course_sweep / per_sweep:.1f}x), "
            f"Recall@20 {recall(model.user_factors, model.item_factors, *args):.3f}"
        )

    binary = R.copy()
    binary.data[:] = 1.0
    (X, Y), seconds = timed(lambda: fit_bpr(binary, FACTORS, epochs=EPOCHS, seed=42))
    course_rate = EPOCHS / seconds
    print(f"BPR, course (NumPy):            {course_rate:7.1f} epochs/s, Recall@20 {recall(X, Y, *args):.3f}")
    for threads in (1, 0):
        model = BayesianPersonalizedRanking(
            factors=FACTORS,
            learning_rate=0.05,
            regularization=0.001,
            iterations=EPOCHS,
            num_threads=threads,
            random_state=42,
        )
        _, seconds = timed(lambda model=model: model.fit(binary, show_progress=False))
        what = f"implicit, {threads or 'all'} thread{'s' if threads != 1 else ''}"
        print(
            f"BPR, {what:<27}{EPOCHS / seconds:7.1f} epochs/s ({EPOCHS / seconds / course_rate:.1f}x), "
            f"Recall@20 {recall(model.user_factors, model.item_factors, *args):.3f}"
        )


if __name__ == "__main__":
    main()
