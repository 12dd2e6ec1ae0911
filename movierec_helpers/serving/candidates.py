"""Candidate pools: the top items of several generators per user, with each generator's rank and score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def candidate_pool(
    user_ids: Sequence[int],
    scores: Mapping[str, np.ndarray],
    rated_by_user: Sequence[Sequence[int]],
    k: int = 100,
) -> pd.DataFrame:
    """The union of every generator's top-k unseen items, one row per (user, movie).

    Args:
        user_ids: the users, in the order of the score rows.
        scores: generator name -> ``[users, items]`` scores (a ``[items]`` vector is one
            score for everyone, e.g. popularity).
        rated_by_user: per user, the movie ids to leave out (rated in training).
        k: how many items each generator proposes per user.

    Returns:
        Columns ``user_id``, ``movie_id``, then ``<name> score`` and ``<name> rank`` per
        generator (rank 1 is its best; ``k + 1`` when it did not propose the movie; its
        score is given for every row). Rows sorted by user, then movie.
    """
    frames = []
    names = list(scores)
    for row, (user, rated) in enumerate(zip(user_ids, rated_by_user)):
        seen = np.fromiter((int(i) for i in rated), dtype=np.int64)
        per_generator = {}
        for name in names:
            s = np.asarray(scores[name], dtype=np.float64)
            s = (s if s.ndim == 1 else s[row]).copy()
            s[seen] = -np.inf
            ids = np.arange(len(s))
            per_generator[name] = (s, ids[np.lexsort((ids, -s))][:k])
        movies = np.unique(np.concatenate([top for _, top in per_generator.values()]))
        frame = {"user_id": np.full(len(movies), int(user)), "movie_id": movies}
        for name, (s, top) in per_generator.items():
            rank = np.full(len(s), k + 1)
            rank[top] = np.arange(1, len(top) + 1)
            frame[f"{name} score"] = s[movies]
            frame[f"{name} rank"] = rank[movies]
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)
