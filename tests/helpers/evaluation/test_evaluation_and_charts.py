import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from movierec_helpers import charts
from movierec_helpers.evaluation.projection import project_tsne
from movierec_helpers.evaluation.recommend import find_movie, movie_neighbors, user_recommendations
from movierec_helpers.evaluation.scores import COSINE, DOT, compute_scores
from movierec_helpers.models.tensorflow.metrics import ranking_metrics
from movierec_helpers.models.tensorflow.softmax import (
    build_softmax_model,
    build_user_features,
    embedding_bag,
    sample_labels,
)


def test_ranking_metrics_on_hand_computed_case():
    scores = np.array(
        [
            [0.9, 0.8, 0.7, 0.1],  # top2 = {0, 1}; relevant {1, 3}
            [0.1, 0.2, 0.3, 0.4],
        ]
    )  # top2 = {3, 2}; relevant {3}
    got = ranking_metrics(scores, [[1, 3], [3]], k=2)
    # user 0: 1 hit; precision 1/2, recall 1/2; user 1: 1 hit, precision 1/2, recall 1
    assert got["precision"].numpy() == pytest.approx(0.5)
    assert got["recall"].numpy() == pytest.approx(0.75)
    # ndcg: user 0 = (1/log2(3)) / (1 + 1/log2(3)); user 1 = 1
    ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert got["ndcg"].numpy() == pytest.approx((ndcg0 + 1) / 2, rel=1e-5)


def test_ranking_metrics_average_per_user_not_micro():
    # user 0 has 3 relevant items all found, user 1 has 1 relevant item not found.
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [3.0, 2.0, 1.0, 0.0]])
    got = ranking_metrics(scores, [[0, 1, 2], [3]], k=3)
    assert got["recall"].numpy() == pytest.approx(0.5)  # micro-average would be 3/4


def test_ranking_metrics_exclude_and_single_labels():
    scores = np.array([[5.0, 4.0, 3.0]])
    assert ranking_metrics(scores, tf.constant([0]), k=1)["precision"].numpy() == 1.0
    excluded = ranking_metrics(scores, tf.constant([0]), k=1, exclude=[[0]])
    assert excluded["precision"].numpy() == 0.0
    with pytest.raises(ValueError, match="k must be between 1"):
        ranking_metrics(scores, [[0]], k=4)


def test_compute_scores_dot_cosine_and_zero_vector():
    items = np.array([[1.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(compute_scores(np.array([2.0, 1.0]), items, DOT), [2.0, 10.0, 0.0])
    np.testing.assert_allclose(compute_scores(np.array([2.0, 0.0]), items, COSINE), [1.0, 0.6, 0.0])
    with pytest.raises(ValueError, match="Unknown measure"):
        compute_scores(np.ones(2), items, "l2")


@pytest.fixture
def tiny_movies():
    return pd.DataFrame(
        {
            "movie_id": [0, 1, 2, 3],
            "title": [
                "Aladdin (1992)",
                "Lion King, The (1994)",
                "Aladdin and the King of Thieves (1996)",
                "Heat (1995)",
            ],
            "all_genres": ["Animation", "Animation", "Animation", "Action"],
        }
    )


def test_movie_neighbors_uses_given_scores(tiny_movies, capsys):
    emb = {"movie_id": np.array([[1.0, 0.0], [0.9, 0.1], [0.5, 0.5], [0.0, 1.0]])}
    table = movie_neighbors(emb, tiny_movies, "aladdin", compute_scores, COSINE, k=3)
    assert table["title"].tolist()[:2] == ["Aladdin (1992)", "Lion King, The (1994)"]
    out = capsys.readouterr().out
    assert "Other candidates: Aladdin and the King of Thieves (1996)" in out


def test_unknown_title_suggests_close_matches(tiny_movies):
    with pytest.raises(ValueError, match=r"Found no movie.*'Aladin'.*Close matches: Aladdin \(1992\)"):
        find_movie(tiny_movies, "Aladin (1992)".replace(" (1992)", ""))


def test_user_recommendations_exclude_rated(tiny_movies):
    emb = {
        "user_id": np.array([[1.0, 0.0]]),
        "movie_id": np.array([[3.0, 0.0], [2.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
    }
    ratings = pd.DataFrame({"user_id": [0], "movie_id": [0], "rating": [5.0]})
    top = user_recommendations(emb, tiny_movies, ratings, 0, compute_scores, DOT, k=2)
    assert top.index.tolist() == [0, 1]
    top = user_recommendations(emb, tiny_movies, ratings, 0, compute_scores, DOT, k=2, exclude_rated=True)
    assert top.index.tolist() == [1, 2]
    with pytest.raises(ValueError, match="user_id 5 has no embedding"):
        user_recommendations(emb, tiny_movies, ratings, 5, compute_scores)


def test_embedding_bag_and_label_sampling():
    ids = tf.ragged.constant([[0, 2], [1]], dtype=tf.int64)
    table = tf.constant([[1.0, 0.0], [0.0, 1.0], [3.0, 2.0]])
    np.testing.assert_allclose(embedding_bag(table, ids).numpy(), [[2.0, 1.0], [0.0, 1.0]])
    labels = sample_labels(ids, tf.random.Generator.from_seed(0)).numpy()
    assert labels[0] in (0, 2) and labels[1] == 1


def test_user_features_bag_weights_equal_embedding_bag(ml100k):
    features = build_user_features(ml100k.ratings, ml100k.movies)
    assert features.num_rows == 943
    table = tf.random.Generator.from_seed(0).normal([1682, 4])
    rows = tf.constant([0, 5, 942], tf.int64)
    by_weights = tf.matmul(features.take(rows)["movie_id"], table)
    by_bag = embedding_bag(table, tf.gather(features.bags["movie_id"], rows))
    np.testing.assert_allclose(by_weights.numpy(), by_bag.numpy(), rtol=1e-4, atol=1e-6)


def test_softmax_model_trains(ml100k):
    features = build_user_features(ml100k.ratings, ml100k.movies)
    model, network = build_softmax_model(
        features, embedding_dims={"movie_id": 8, "genre": 2, "year": 2}, hidden_dims=[8], seed=0
    )
    start = model.evaluate()
    result = model.train(100, 2.0, optimizer="adagrad", plot_results=False, log_every=50)
    assert result["train_loss"] < start["train_loss"]
    assert 0.0 <= result["test_precision_at_10"] <= 0.1
    with pytest.raises(ValueError, match="dimension 9"):
        build_softmax_model(
            features, embedding_dims={"movie_id": 8, "genre": 1, "year": 1}, hidden_dims=[9], seed=0
        )


def _spec(chart):
    return chart.to_dict()


def test_user_histograms_spec(ml100k):
    spec = _spec(charts.user_histograms(ml100k.ratings, ml100k.users))
    assert len(spec["hconcat"]) == 3
    params = spec["params"] if "params" in spec else [p for c in spec["hconcat"] for p in c.get("params", [])]
    point = [p for p in params if p["select"]["type"] == "point"]
    assert point and point[0]["select"]["fields"] == ["occupation"]
    filters = [
        layer["transform"][0]["filter"] for layer in spec["hconcat"][0]["layer"] if "transform" in layer
    ]
    assert filters == [{"param": point[0]["name"]}]
    assert spec["hconcat"][0]["layer"][0]["encoding"]["x"]["field"] == "rating count"
    for histogram in spec["hconcat"][:2]:
        background, selected = histogram["layer"]
        assert background["encoding"]["color"] == {"value": "lightgray"} and "transform" not in background
        assert "transform" in selected, "the selection is drawn last, on top of the grey bars"
        assert "resolve" not in histogram, "one shared count axis, not a second y-axis"
    widths = [panel.get("width") or panel["layer"][0].get("width") for panel in spec["hconcat"]]
    assert sum(widths) <= 750, f"panels {widths} plus axes must fit a ~1230 px output area"


def test_offline_renderer_draws_svg_with_the_v5_mimetype(ml100k):
    import altair as alt

    charts.enable_offline_renderer()
    try:
        bundle, metadata = charts.user_histograms(ml100k.ratings, ml100k.users)._repr_mimebundle_()
    finally:
        alt.renderers.enable("default")
    assert bundle["application/vnd.vegalite.v5+json"]["$schema"].endswith("/v5.json")
    assert metadata == {
        "application/vnd.vegalite.v5+json": {"embed_options": {"renderer": "svg", "actions": False}}
    }


def test_movie_histograms_slice_by_genre(ml100k):
    spec = _spec(charts.movie_histograms(ml100k.ratings, ml100k.movies))
    assert spec["hconcat"][2]["encoding"]["y"]["field"] == "genre"


def test_embedding_norm_chart_links_a_brush(ml100k):
    rng = np.random.default_rng(0)
    chart = charts.embedding_norm_chart(
        {"a": rng.normal(size=(1682, 3)), "b": rng.normal(size=(1682, 3))}, ml100k.movies, ml100k.ratings
    )
    spec = _spec(chart)
    assert len(spec["hconcat"]) == 2
    text = str(spec)
    assert "'type': 'interval'" in text and "pointerover" in text
    first_points = spec["hconcat"][0]["layer"][0]
    assert first_points["encoding"]["x"]["field"] == "num_ratings"
    assert first_points["encoding"]["y"]["field"] == "norm_0"
    assert first_points["encoding"]["y"]["title"] == "embedding norm (a)"


def test_embedding_norm_fields_have_no_dots(ml100k):
    """Vega-Lite reads "." in a field name as a nested field: the panel would be blank."""
    vectors = np.random.default_rng(0).normal(size=(1682, 3))
    spec = _spec(
        charts.embedding_norm_chart(
            {"init 0.5": vectors, "init 0.05": vectors}, ml100k.movies, ml100k.ratings
        )
    )
    fields = {key for row in next(iter(spec["datasets"].values())) for key in row}
    assert not [f for f in fields if "." in f]
    for panel in spec["hconcat"]:
        for layer in panel["layer"]:
            assert "." not in layer["encoding"]["y"]["field"]


def test_chart_data_are_rounded_and_maps_declare_layout_fields(ml100k):
    rng = np.random.default_rng(0)
    spec = _spec(charts.embedding_scatter(rng.normal(size=(60, 2)) * 10, ml100k.movies.head(60)))
    rows = next(iter(spec["datasets"].values()))
    assert all(round(row["x"], 2) == row["x"] for row in rows)
    assert spec["usermeta"]["movierec"]["layout_fields"] == ["x", "y"]
    norms = _spec(
        charts.embedding_norm_chart({"a": rng.normal(size=(1682, 3))}, ml100k.movies, ml100k.ratings)
    )
    assert all(round(row["norm_0"], 3) == row["norm_0"] for row in next(iter(norms["datasets"].values())))


def test_training_curves_one_line_per_model():
    histories = {
        "a": pd.DataFrame({"val_rmse": [1.123456, 1.0]}),
        "b": pd.DataFrame({"val_rmse": [1.2, 0.9]}),
    }
    spec = _spec(charts.training_curves(histories, "val_rmse", "test RMSE"))
    rows = next(iter(spec["datasets"].values()))
    assert [(r["model"], r["epoch"], r["val_rmse"]) for r in rows] == [
        ("a", 1, 1.1235),
        ("a", 2, 1.0),
        ("b", 1, 1.2),
        ("b", 2, 0.9),
    ]
    assert spec["encoding"]["y"]["title"] == "test RMSE"


def test_tsne_scatter_has_legend_selection_and_tooltip(ml100k):
    proj = project_tsne(np.random.default_rng(0).normal(size=(60, 5)), seed=0, perplexity=5, max_iter=250)
    assert proj.shape == (60, 2)
    spec = _spec(charts.embedding_scatter(proj, ml100k.movies.head(60)))
    assert spec["params"][0]["bind"] == "legend"
    assert spec["params"][0]["select"]["fields"] == ["genre"]
    assert {t["field"] for t in spec["encoding"]["tooltip"]} == {"title", "all_genres"}


def test_charts_emit_no_warnings(ml100k):
    import warnings

    vectors = np.ones((1682, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts.user_histograms(ml100k.ratings, ml100k.users).to_dict()
        charts.embedding_norm_chart({"a": vectors, "b": vectors}, ml100k.movies, ml100k.ratings).to_dict()
        charts.embedding_scatter(vectors[:, :2], ml100k.movies).to_dict()


def _axis_titles(spec, found=None):
    """``(x or y, title or None)`` of every positional encoding that draws an axis."""
    found = [] if found is None else found
    if isinstance(spec, dict):
        for channel, encoding in (spec.get("encoding") or {}).items():
            if channel in ("x", "y") and isinstance(encoding, dict) and encoding.get("axis", {}) is not None:
                found.append((channel, encoding.get("title")))
        for key, value in spec.items():
            if key not in ("data", "datasets", "encoding"):
                _axis_titles(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _axis_titles(value, found)
    return found


def test_every_chart_titles_every_axis_it_draws(ml100k):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1682, 3))
    histories = {"a": pd.DataFrame({"val_rmse": [1.0, 0.9]})}
    made = {
        "user_histograms": charts.user_histograms(ml100k.ratings, ml100k.users),
        "movie_histograms": charts.movie_histograms(ml100k.ratings, ml100k.movies),
        "embedding_norm_chart": charts.embedding_norm_chart(
            {"a": vectors, "b": vectors}, ml100k.movies, ml100k.ratings
        ),
        "training_curves": charts.training_curves(histories, "val_rmse", "test RMSE"),
        "embedding_scatter (PCA)": charts.embedding_scatter(vectors[:, :2], ml100k.movies, ("PC 1", "PC 2")),
    }
    for name, chart in made.items():
        titles = _axis_titles(_spec(chart))
        assert titles, name
        assert all(title for _, title in titles), f"{name}: an axis without a title: {titles}"
    tsne = _spec(charts.embedding_scatter(vectors[:, :2], ml100k.movies))
    assert _axis_titles(tsne) == [], "a t-SNE map draws no axes ..."
    assert "the axes mean nothing" in tsne["title"], "... and its title says why"


def test_norms_by_popularity_averages_per_band():
    from movierec_helpers.evaluation.norms import norms_by_popularity

    ratings = pd.DataFrame({"movie_id": [0] * 6 + [1] * 2})  # movie 0: 6 ratings, 1: 2, 2: none
    vectors = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])  # norms 5, 1, 2
    table = norms_by_popularity({"a": vectors, "b": 2 * vectors}, ratings, edges=(0, 5))
    assert table.index.tolist() == ["0-4 ratings", "5+ ratings"]
    assert table["movies"].tolist() == [2, 1]
    np.testing.assert_allclose(table["a"], [1.5, 5.0])
    np.testing.assert_allclose(table["b"], [3.0, 10.0])
    with pytest.raises(ValueError, match="start at 0 and increase"):
        norms_by_popularity({"a": vectors}, ratings, edges=(5, 1))
    with pytest.raises(ValueError, match="one row per movie"):
        norms_by_popularity({"a": vectors, "b": vectors[:2]}, ratings)
    with pytest.raises(ValueError, match="outside 0..2"):
        norms_by_popularity({"a": vectors}, pd.DataFrame({"movie_id": [3]}))
