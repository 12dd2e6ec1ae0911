"""Every chart says what it shows in words: descriptions made from the chart's own spec and data."""

import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from movierec_helpers import charts
from movierec_helpers.charts.describe import describe_figure, describe_vegalite, text_fallback
from movierec_helpers.charts.interactive import JUPYTERLAB_MIMETYPE, _jupyterlab_renderer
from movierec_helpers.charts.training import figure_bundle, training_figure


def _curves():
    histories = {
        "small": pd.DataFrame({"val_rmse": [1.2, 1.0, 0.95]}),
        "large": pd.DataFrame({"val_rmse": [1.3, 1.1, 1.05]}),
    }
    return charts.training_curves(histories, "val_rmse", "validation RMSE (stars)")


def test_a_line_chart_names_both_axes_their_ranges_the_series_and_their_ends():
    text = describe_vegalite(_curves().to_dict())
    assert "x axis: epoch (3 values: 1, 2, 3)" in text
    assert "y axis: validation RMSE (stars) from 0.95 to 1.3" in text
    assert "model (2 groups: small, large)" in text
    assert "small: 1.2 at 1, 0.95 at 3; large: 1.3 at 1, 1.05 at 3" in text


def test_the_renderer_puts_the_description_in_the_spec_and_the_text_fallback_with_a_small_table():
    spec = _curves().to_dict()
    bundle, _ = _jupyterlab_renderer(spec)
    assert bundle[JUPYTERLAB_MIMETYPE]["description"] == describe_vegalite(spec)
    assert bundle["text/plain"].startswith(describe_vegalite(spec))
    assert "model  epoch  val_rmse" in bundle["text/plain"], "six rows: the data follow as a table"
    assert "Altair chart" not in bundle["text/plain"]


def test_an_authors_description_comes_first_and_panels_are_numbered():
    table = pd.DataFrame({"lambda": [1.0, 0.5, 0.0], "ndcg": [0.3, 0.28, 0.2], "coverage": [0.1, 0.2, 0.4]})
    spec = charts.tradeoff_chart(table, "lambda").properties(description="MMR's trade-off").to_dict()
    text = describe_vegalite(spec)
    assert text.startswith("MMR's trade-off. 2 panels side by side. Panel 1: A line chart")
    assert "Panel 2:" in text and "y axis: coverage from 0.1 to 0.4" in text
    assert "reversed (largest first)" in text


def test_machine_dependent_values_are_named_but_never_quoted(ml100k):
    projection = np.random.default_rng(0).normal(size=(len(ml100k.movies), 2)) * 40
    spec = charts.embedding_scatter(projection, ml100k.movies).to_dict()
    text = describe_vegalite(spec)
    assert "x axis: x (not drawn" in text and "y axis: y (not drawn" in text
    assert "Colour shows genre (19 groups" in text
    assert not any(f"{v:.3g}" in text for v in projection.ravel()[:50]), "t-SNE coordinates quoted"
    measurements = pd.DataFrame(
        {
            "M": [8, 16],
            "ef_search": [10, 10],
            "recall@10": [0.9, 0.95],
            "distances per query": [300, 500],
            "queries per second": [12345.0, 6789.0],
        }  # fmt: skip
    )
    text = describe_vegalite(charts.recall_cost_chart(measurements).to_dict())
    assert "queries per second (this machine, one thread) on a log scale (its values depend" in text
    assert "1.23e+04" not in text and "12,345" not in text
    assert "Colour and shape show M (neighbours per node)" in text


def test_series_are_told_by_shape_and_dash_too_and_the_palette_is_okabe_ito():
    spec = _curves().to_dict()
    encoding = spec["encoding"]
    assert {"color", "shape", "strokeDash"} <= set(encoding)
    assert encoding["color"]["scale"]["range"][:3] == ["#0072B2", "#D55E00", "#009E73"]


def test_histograms_say_what_they_count_and_the_selection_in_words(ml100k):
    text = text_fallback(charts.user_histograms(ml100k.ratings, ml100k.users).to_dict())
    assert text.startswith("3 panels side by side.")
    assert "x axis: # ratings / user in bins from 20 to 737; y axis: number of users" in text
    assert "occupation (21 values:" in text
    assert "Selected marks are coloured, the others light grey." in text
    assert "\n\n" not in text, "943 rows: no table"


def test_a_matplotlib_figure_is_described_and_keeps_it_in_every_export():
    history = pd.DataFrame({"iteration": [0, 100, 200], "train": [3.0, 1.0, 0.8], "test": [3.1, 1.2, 1.0]})
    fig = training_figure(history, [["train", "test"]])
    text = describe_figure(fig)
    assert "x axis: iteration from 0 to 200; y axis: train, test from 0.8 to 3.1" in text
    assert "train goes from 3 at 0 to 0.8 at 200 (lowest 0.8)" in text
    bundle, metadata = figure_bundle(fig)
    assert bundle["text/plain"] == text
    assert f'alt="{text}"' in bundle["text/html"]
    png = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert png.text["Description"] == text, "the PNG carries its description"
    assert metadata["image/png"]["width"] == 360


@pytest.mark.parametrize("broken", [{}, {"mark": "bar"}, {"hconcat": []}])
def test_a_chart_without_encodings_is_still_described(broken):
    assert describe_vegalite(broken)


def test_saved_svg_and_png_keep_the_description(tmp_path):
    from movierec_helpers.charts.export import save_chart

    chart = _curves()
    description = save_chart(chart, tmp_path / "curves.svg")
    svg = (tmp_path / "curves.svg").read_text()
    assert svg.startswith('<svg role="img" aria-label="A line chart of 6 rows; x axis: epoch')
    assert f"<title>{description}</title>" in svg
    assert save_chart(chart, tmp_path / "curves.png") == description
    assert Image.open(tmp_path / "curves.png").text["Description"] == description
    with pytest.raises(ValueError, match=r"'curves.jpg': use a .svg or .png"):
        save_chart(chart, tmp_path / "curves.jpg")


def test_large_whole_numbers_read_as_numbers_whatever_their_type():
    import altair as alt

    table = pd.DataFrame({"items": np.array([1682, 10_000, 100_000]), "ms": [0.1, 0.4, 2.5]})
    chart = alt.Chart(table).mark_line().encode(x=alt.X("items:Q", title="items"), y="ms:Q")
    text = describe_vegalite(chart.to_dict())
    assert "from 1,682 to 100,000" in text, text
    assert "e+0" not in text
