"""Recommendations and nearest neighbours from learned embeddings.

Every function takes what it needs as arguments (embeddings, the dataset, the scoring
function); nothing is read from notebook globals.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from movierec_helpers.evaluation.scores import DOT

ScoreFn = Callable[[np.ndarray, np.ndarray, str], np.ndarray]


def _movie_embeddings(model_or_embeddings) -> Mapping[str, np.ndarray]:
    if isinstance(model_or_embeddings, Mapping):
        return model_or_embeddings
    return model_or_embeddings.embeddings


def find_movie(movies: pd.DataFrame, title_substring: str) -> tuple[int, list[str]]:
    """Finds the movies whose title contains a substring (case-insensitive).

    Args:
        movies: the movies table.
        title_substring: part of a title, e.g. ``"Aladdin"``.

    Returns:
        ``(movie_id, other_titles)``: the first match and the titles of the others.

    Raises:
        ValueError: nothing matches; the message lists close titles.
    """
    titles = movies["title"]
    matches = movies[titles.str.contains(title_substring, case=False, regex=False)]
    if matches.empty:
        close = difflib.get_close_matches(title_substring, titles.tolist(), n=5, cutoff=0.5)
        hint = f" Close matches: {', '.join(close)}." if close else ""
        raise ValueError(f"Found no movie whose title contains {title_substring!r}.{hint}")
    return int(matches["movie_id"].iloc[0]), matches["title"].iloc[1:].tolist()


def movie_neighbors(
    model_or_embeddings,
    movies: pd.DataFrame,
    title_substring: str,
    score_fn: ScoreFn,
    measure: str = DOT,
    k: int = 6,
) -> pd.DataFrame:
    """The ``k`` movies most similar to the first movie matching ``title_substring``.

    Args:
        model_or_embeddings: a model with ``.embeddings`` or a dict holding ``"movie_id"``.
        movies: the movies table (row i is movie i).
        title_substring: part of the query movie's title.
        score_fn: ``(query, items, measure) -> scores``, e.g. your ``compute_scores``.
        measure: ``"dot"`` or ``"cosine"``.
        k: number of rows.

    Returns:
        DataFrame with the score, ``title`` and ``genres``, best first (the query
        movie itself is usually the first row).

    Raises:
        ValueError: no title matches (with close matches in the message).
    """
    movie_id, others = find_movie(movies, title_substring)
    print(f"Nearest neighbors of {movies['title'].iloc[movie_id]} ({measure}).")
    if others:
        print(f"[Found more than one matching movie. Other candidates: {', '.join(others)}]")
    vectors = _movie_embeddings(model_or_embeddings)["movie_id"]
    scores = np.asarray(score_fn(vectors[movie_id], vectors, measure))
    return _top_k(scores, movies, measure, k)


def user_recommendations(
    model_or_embeddings,
    movies: pd.DataFrame,
    ratings: pd.DataFrame,
    user_id: int,
    score_fn: ScoreFn,
    measure: str = DOT,
    k: int = 6,
    exclude_rated: bool = False,
) -> pd.DataFrame:
    """The ``k`` best-scored movies for one user.

    Args:
        model_or_embeddings: a model with ``.embeddings`` holding ``"user_id"`` and
            ``"movie_id"``, or such a dict.
        movies: the movies table.
        ratings: the ratings table (to exclude movies the user rated).
        user_id: the user.
        score_fn: ``(query, items, measure) -> scores``.
        measure: ``"dot"`` or ``"cosine"``.
        k: number of rows.
        exclude_rated: leave out movies the user already rated.

    Returns:
        DataFrame with the score, ``title`` and ``genres``, best first.

    Raises:
        ValueError: ``user_id`` has no embedding.
    """
    embeddings = _movie_embeddings(model_or_embeddings)
    users = embeddings["user_id"]
    if not 0 <= user_id < len(users):
        raise ValueError(
            f"user_id {user_id} has no embedding: the model knows users 0..{len(users) - 1}. "
            "Did you add your ratings before building the model?"
        )
    scores = np.asarray(score_fn(users[user_id], embeddings["movie_id"], measure), dtype=float)
    if exclude_rated:
        rated = ratings.loc[ratings["user_id"] == user_id, "movie_id"].to_numpy()
        scores = scores.copy()
        scores[rated] = -np.inf
    return _top_k(scores, movies, measure, k)


def _top_k(scores: np.ndarray, movies: pd.DataFrame, measure: str, k: int) -> pd.DataFrame:
    # Stable sort on the negated scores: ties keep movie-id order, so tables are reproducible.
    order = np.argsort(-scores, kind="stable")
    order = order[np.isfinite(scores[order])][:k]
    return pd.DataFrame(
        {
            f"{measure} score": scores[order],
            "title": movies["title"].to_numpy()[order],
            "genres": movies["all_genres"].to_numpy()[order],
        },
        index=pd.Index(order, name="movie_id"),
    )
