"""Rating movies yourself in plain JupyterLab: a CSV file, filled by hand or by a widget.

The file has two columns, ``title`` and ``rating`` (1-5). :func:`add_my_ratings`
appends those ratings to the data as a new user, so the notebooks can show that
user's recommendations. Without a file, notebooks use an existing user.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from movierec_helpers.data.tables import MovieLens
from movierec_helpers.evaluation.recommend import find_movie


class RatingsFileError(ValueError):
    """Raised when a ratings file cannot be used; the message says which row and why."""


def read_my_ratings(path: str | Path, movies: pd.DataFrame) -> pd.DataFrame:
    """Reads a ``title,rating`` CSV into ``movie_id``/``rating`` rows.

    Titles must match exactly one movie title (case-insensitive); ratings must be 1-5.

    Raises:
        RatingsFileError: a missing column, an unknown title or a rating out of range.
    """
    table = pd.read_csv(path)
    missing = {"title", "rating"} - set(table.columns)
    if missing:
        raise RatingsFileError(f"{path} needs the columns 'title' and 'rating'; missing {sorted(missing)}.")
    by_title = {t.lower(): i for i, t in zip(movies["movie_id"], movies["title"])}
    rows = []
    for line, (title, rating) in enumerate(zip(table["title"], table["rating"]), start=2):
        key = str(title).strip().lower()
        if key not in by_title:
            try:
                find_movie(movies, str(title))
                hint = " It matches several titles; copy the full title with its year."
            except ValueError as exc:
                hint = " " + str(exc)
            raise RatingsFileError(f"{path}, line {line}: unknown title {title!r}.{hint}")
        if not (isinstance(rating, (int, float, np.number)) and 1 <= rating <= 5):
            raise RatingsFileError(f"{path}, line {line}: rating {rating!r} is not a number from 1 to 5.")
        rows.append((by_title[key], float(rating)))
    return pd.DataFrame(rows, columns=["movie_id", "rating"]).drop_duplicates("movie_id", keep="last")


YOU = "you"  # the occupation that marks the student's own user row


def add_my_ratings(data: MovieLens, my_ratings: pd.DataFrame) -> tuple[MovieLens, int]:
    """Adds your ratings to the data as a new user, or replaces them if you are already in.

    Running the notebook cell again (after saving more ratings) keeps one user for you.

    Returns:
        ``(data_with_you, your_user_id)``.
    """
    already = data.users.loc[data.users["occupation"] == YOU, "user_id"]
    if len(already):
        user_id = int(already.iloc[0])
        users = data.users
        ratings = data.ratings[data.ratings["user_id"] != user_id]
    else:
        user_id = data.num_users
        you = pd.DataFrame(
            {"user_id": [user_id], "age": [pd.NA], "sex": [pd.NA], "occupation": [YOU], "zip_code": [pd.NA]}
        )
        users = pd.concat([data.users, you], ignore_index=True)
        ratings = data.ratings
    new = my_ratings.assign(user_id=user_id, timestamp=0)[["user_id", "movie_id", "rating", "timestamp"]]
    ratings = pd.concat([ratings, new], ignore_index=True)
    return MovieLens(ratings=ratings, movies=data.movies, users=users, variant=data.variant), user_id


def _status(message: str) -> str:
    """The form's status line, announced by screen readers when it changes (a live region)."""
    return f'<p role="status" aria-live="polite">{html.escape(message)}</p>'


def rating_form(movies: pd.DataFrame, path: str | Path = "my_ratings.csv"):
    """An ipywidgets form: search a title, pick a rating, save to ``path``.

    Returns:
        The widget box to display.
    """
    import ipywidgets as widgets

    path = Path(path)
    saved = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["title", "rating"])
    # Usable with the keyboard alone: every control is labelled and reached with Tab (title,
    # then the rating with the arrow keys, then Enter on the button); the result is announced.
    wide = {"description_width": "initial"}
    search = widgets.Combobox(
        placeholder="type part of a title, then pick it",
        options=tuple(movies["title"]),
        ensure_option=True,
        description="movie title",
        style=wide,
    )
    # A drop-down, not a slider: ipywidgets' slider moves 10% of its range per arrow key, which on
    # 1-5 stars rounds back to where it was, so arrow keys could not change it.
    choices = [(f"{n} star{'s' if n > 1 else ''}", n) for n in range(1, 6)]
    stars = widgets.Dropdown(options=choices, value=4, description="rating", style=wide)
    add = widgets.Button(description="save rating", tooltip=f"save the rating to {path.name}")
    status = widgets.HTML(value=_status(""))

    def on_add(_):
        nonlocal saved
        if not search.value:
            status.value = _status("Pick a title from the list: type part of it, then choose the full title.")
            return
        saved = pd.concat(
            [
                saved[saved["title"] != search.value],
                pd.DataFrame({"title": [search.value], "rating": [stars.value]}),
            ]
        )
        saved.to_csv(path, index=False)
        status.value = _status(
            f"saved {search.value}: {stars.value} ({len(saved)} ratings in {path}). "
            "Run this cell and the ones below again to see your recommendations."
        )

    add.on_click(on_add)
    return widgets.VBox([widgets.HBox([search, stars, add]), status])
