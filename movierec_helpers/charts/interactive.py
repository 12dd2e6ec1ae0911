"""Interactive Altair charts of the data and of learned embeddings.

Every function returns an Altair chart object: the notebook displays it, the tests
inspect its specification. Selections use the Altair 5+ parameter API
(``selection_point``/``selection_interval`` with ``add_params``).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from movierec_helpers.charts.describe import describe_vegalite, text_fallback
from movierec_helpers.data.tables import rating_statistics

JUPYTERLAB_MIMETYPE = "application/vnd.vegalite.v5+json"
# Three panels side by side, with their axes and category labels, fit JupyterLab's output
# area (about 1230 px wide on a 1600 px window with the file browser open).
HISTOGRAM_WIDTH = 250
# Okabe and Ito's palette: told apart with every common colour-vision deficiency (the
# yellow last: it is faint on white). Series also differ by shape and dash, never by colour alone.
SERIES_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
DASHES = [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2], [4, 4], [1, 3]]


def series_encodings(field: str, title: str | None = None) -> dict:
    """Colour, point shape and line dash of one series field: a series is never told by colour alone."""
    title = title or field
    return {
        "color": alt.Color(field, title=title, scale=alt.Scale(range=SERIES_COLOURS)),
        "shape": alt.Shape(field, title=title),
        "strokeDash": alt.StrokeDash(field, title=title, scale=alt.Scale(range=DASHES)),
    }


SELECTOR_WIDTH = 200


def _jupyterlab_renderer(spec: dict, **_) -> tuple[dict, dict]:
    """Sends a chart to JupyterLab's built-in (offline) Vega-Lite renderer.

    Altair's default HTML renderer loads vega-embed from a CDN (no internet in many
    classrooms) and puts a random element id in every output, which makes stored outputs
    irreproducible. Its "mimetype" renderer uses "application/vnd.vegalite.v6.json",
    which JupyterLab 4 does not render (it knows the v3-v5 "+json" types). The charts
    here use nothing beyond Vega-Lite 5, so they are sent as that type. They are drawn as
    SVG (the output's ``embed_options``): crisp at any zoom, and their marks can be inspected.
    Each chart says what it shows in words (:mod:`movierec_helpers.charts.describe`): in its
    ``description`` (Vega reads it out as the SVG's ``aria-label``) and as the text/plain
    fallback that a screen reader, a terminal or a front end without Vega-Lite shows.
    """
    spec = {**spec, "$schema": "https://vega.github.io/schema/vega-lite/v5.json"}
    text = text_fallback(spec)
    spec["description"] = describe_vegalite(spec)
    # The description speaks for the chart; the marks (up to 1,682 points) and axes stay out of
    # the accessibility tree rather than being announced one by one, some without a name.
    config = spec.get("config", {})
    spec["config"] = {**config, "aria": False, "mark": {**config.get("mark", {}), "aria": False}}
    bundle = {JUPYTERLAB_MIMETYPE: spec, "text/plain": text}
    # No actions menu: its "..." summary has no accessible name (axe-core: summary-name), and its
    # "Save as SVG/PNG" drops the description; charts.save_chart keeps it.
    return bundle, {JUPYTERLAB_MIMETYPE: {"embed_options": {"renderer": "svg", "actions": False}}}


def enable_offline_renderer() -> None:
    """Shows charts with JupyterLab's built-in Vega-Lite renderer (no CDN, stable outputs).

    Call once at the top of a notebook; :func:`_jupyterlab_renderer` says why.
    """
    alt.renderers.register("movierec", _jupyterlab_renderer)
    alt.renderers.enable("movierec")


def rounded(table: pd.DataFrame, decimals: int | dict[str, int] = 4) -> pd.DataFrame:
    """A copy of ``table`` with its float columns rounded to what a reader of a chart sees.

    Charts embed their data in the notebook: rounding keeps notebooks small and keeps
    stored outputs independent of the last bits a particular CPU computes.

    Args:
        table: the chart's data.
        decimals: decimals for every float column, or per column name (others keep 4).

    Returns:
        The rounded copy.
    """
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            digits = decimals if isinstance(decimals, int) else decimals.get(column, 4)
            out[column] = out[column].round(digits)
    return out


def filtered_histogram(field: str, label: str, selection, count_label: str = "count") -> alt.LayerChart:
    """Histogram of ``field`` for the selected rows, drawn over the whole data in light grey.

    Both layers share one count axis, so the highlighted bars are the selection's share
    of each bin (and are drawn on top).

    Args:
        field: the column to bin.
        label: the x-axis title.
        selection: an Altair selection parameter that filters the top layer.
        count_label: the y-axis title (what the bars count).

    Returns:
        A layered chart without data (the caller's concat chart provides it).
    """
    base = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X(f"{field}:Q", bin=alt.Bin(maxbins=10), title=label), y=alt.Y("count()", title=count_label)
        )
        .properties(width=HISTOGRAM_WIDTH)
    )
    return alt.layer(
        base.encode(color=alt.value("lightgray")),
        base.transform_filter(selection),
    )


def category_selector(
    field: str, selection, count_label: str = "count", scheme: str = "category20"
) -> alt.Chart:
    """Bar chart of counts per category; click a bar to select it, shift-click for more."""
    return (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X("count()", title=count_label),
            y=alt.Y(f"{field}:N", title=field),
            color=alt.condition(
                selection,
                alt.Color(f"{field}:N", scale=alt.Scale(scheme=scheme)),
                alt.value("lightgray"),
            ),
        )
        .properties(width=SELECTOR_WIDTH, height=300)
        .add_params(selection)
    )


def sliced_histograms(table: pd.DataFrame, slice_field: str, what: str) -> alt.HConcatChart:
    """Histograms of ``rating count`` and ``rating mean``, filtered by a clickable category.

    Args:
        table: one row per user or movie with ``rating count``, ``rating mean`` and
            ``slice_field`` columns.
        slice_field: the category to slice by, e.g. ``"occupation"`` or ``"genre"``.
        what: ``"user"`` or ``"movie"``, used in axis titles.

    Returns:
        The three charts side by side, sharing one point selection on ``slice_field``.
    """
    selection = alt.selection_point(fields=[slice_field], name=f"{slice_field}_pick")
    columns = ["rating count", "rating mean", slice_field]
    return alt.hconcat(
        filtered_histogram("rating count", f"# ratings / {what}", selection, f"number of {what}s"),
        filtered_histogram("rating mean", f"mean {what} rating", selection, f"number of {what}s"),
        category_selector(slice_field, selection, f"number of {what}s"),
        data=rounded(table[columns]),
    )


def user_histograms(ratings: pd.DataFrame, users: pd.DataFrame) -> alt.HConcatChart:
    """Ratings per user and mean user rating, sliced by occupation."""
    table = rating_statistics(ratings, "user_id").merge(users, on="user_id")
    return sliced_histograms(table, "occupation", "user")


def movie_histograms(ratings: pd.DataFrame, movies: pd.DataFrame) -> alt.HConcatChart:
    """Ratings per movie and mean movie rating, sliced by (one sampled) genre."""
    table = rating_statistics(ratings, "movie_id").merge(movies, on="movie_id")
    return sliced_histograms(table, "genre", "movie")


def embedding_norm_chart(
    movie_embeddings: Mapping[str, np.ndarray], movies: pd.DataFrame, ratings: pd.DataFrame
) -> alt.HConcatChart:
    """Movie embedding norm against number of ratings, one panel per model.

    A brush drawn on the first panel highlights the same movies on all of them
    (Vega-Lite defines a selection in one view); hovering shows the nearest title.

    Args:
        movie_embeddings: model name -> ``[num_movies, d]`` movie embeddings.
        movies: the movies table.
        ratings: the ratings the models were trained on.

    Returns:
        The panels side by side.
    """
    counts = np.bincount(ratings["movie_id"].to_numpy(), minlength=len(movies))
    table = pd.DataFrame({"title": movies["title"], "genre": movies["genre"], "num_ratings": counts})
    # Field names stay plain: Vega-Lite reads "." in a field name as a nested field, so a
    # model called "init 0.5" would give a blank panel.
    for i, vectors in enumerate(movie_embeddings.values()):
        table[f"norm_{i}"] = np.linalg.norm(vectors, axis=1)
    brush = alt.selection_interval(encodings=["x", "y"], resolve="global", name="brush")
    panels = []
    for i, name in enumerate(movie_embeddings):
        x = alt.X("num_ratings:Q", title="number of ratings")
        y = alt.Y(f"norm_{i}:Q", title=f"embedding norm ({name})")
        nearest = alt.selection_point(
            on="pointerover", nearest=True, empty=False, encodings=["x", "y"], name=f"nearest_{i}"
        )
        points = (
            alt.Chart()
            .mark_circle()
            .encode(
                x=x,
                y=y,
                color=alt.condition(brush, alt.value("#4c78a8"), alt.value("lightgray")),
                tooltip=["title:N", "num_ratings:Q", alt.Tooltip(f"norm_{i}:Q", title=f"norm ({name})")],
            )
            .add_params(*((brush, nearest) if i == 0 else (nearest,)))
        )
        labels = (
            alt.Chart()
            .mark_text(align="center", dx=5, dy=-5)
            .encode(
                x=x,
                y=y,
                text=alt.condition(nearest, "title:N", alt.value("")),
            )
        )
        panels.append(alt.layer(points, labels))
    return alt.hconcat(*panels, data=rounded(table, 3))


def embedding_scatter(
    projection: np.ndarray, movies: pd.DataFrame, axis_titles: tuple[str, str] | None = None
) -> alt.Chart:
    """2-D scatter of projected movie embeddings, coloured by genre.

    Click a genre in the legend to highlight it (shift-click for several); hover a
    point to see its title.

    Args:
        projection: ``[num_movies, 2]`` coordinates (e.g. from :func:`project_tsne`).
        movies: the movies table.
        axis_titles: titles of the x and y axes where the coordinates mean something (e.g.
            principal components); without them (a t-SNE map, where only neighbourhoods
            mean something) the axes are hidden and the chart's title says so.

    Returns:
        The scatter chart.
    """
    table = pd.DataFrame(
        {
            "x": projection[:, 0],
            "y": projection[:, 1],
            "title": movies["title"],
            "genre": movies["genre"],
            "all_genres": movies["all_genres"],
        }
    )
    genre_pick = alt.selection_point(fields=["genre"], bind="legend", name="genre_legend")
    if axis_titles is None:
        x, y = alt.X("x:Q", axis=None), alt.Y("y:Q", axis=None)
        title = "Movie embeddings, t-SNE map: near points are similar movies; the axes mean nothing"
    else:
        x, y = alt.X("x:Q", title=axis_titles[0]), alt.Y("y:Q", title=axis_titles[1])
        title = "Movie embeddings, projected"
    return (
        alt.Chart(rounded(table, 2), title=title)
        .mark_circle(size=30)
        .encode(
            x=x,
            y=y,
            color=alt.Color("genre:N", scale=alt.Scale(scheme="category20")),
            opacity=alt.condition(genre_pick, alt.value(0.9), alt.value(0.05)),
            tooltip=["title:N", "all_genres:N"],
        )
        .add_params(genre_pick)
        .properties(
            width=600,
            height=600,
            # Only the arrangement of a 2-D map means something: a tiny change upstream moves
            # every point. Tools comparing stored charts read this (tests/nbval_tolerance.py).
            usermeta={"movierec": {"layout_fields": ["x", "y"]}},
        )
    )


def training_curves(histories: Mapping[str, pd.DataFrame], metric: str, title: str) -> alt.Chart:
    """One line per model of ``metric`` against the epoch, from Keras histories.

    Args:
        histories: model name -> a history table with one row per epoch.
        metric: the column to draw, e.g. ``"val_rmse"``.
        title: the y-axis title.

    Returns:
        The line chart.
    """
    curves = pd.concat(
        [
            pd.DataFrame({"model": name, "epoch": range(1, len(h) + 1), metric: h[metric].to_numpy()})
            for name, h in histories.items()
        ],
        ignore_index=True,
    )
    return (
        alt.Chart(rounded(curves))
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:O", title="epoch"),
            y=alt.Y(f"{metric}:Q", title=title, scale=alt.Scale(zero=False)),
            **series_encodings("model:N", "model"),
        )
    )
