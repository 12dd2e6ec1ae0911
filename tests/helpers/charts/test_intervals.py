"""The interval chart of notebook 11: one panel per metric, models named on the axis, described."""

import pandas as pd
import pytest

from movierec_helpers import charts


def test_interval_chart_has_a_panel_per_metric_and_describes_points_and_intervals():
    table = pd.DataFrame(
        {
            "model": ["a", "b", "a", "b"],
            "metric": ["NDCG@10", "NDCG@10", "HR@10", "HR@10"],
            "value": [0.02, 0.04, 0.3, 0.1],
            "low": [0.01, 0.03, 0.25, 0.05],
            "high": [0.03, 0.05, 0.35, 0.15],
        }
    )
    spec = charts.interval_chart(table).to_dict()
    assert len(spec["hconcat"]) == 2
    layers = spec["hconcat"][0]["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["point", "rule"]
    assert layers[1]["encoding"]["x2"]["field"] == "high"
    assert "color" not in layers[0]["encoding"], "models are named on the y axis, not by colour"
    text = charts.describe_vegalite(spec)
    assert text.startswith("Each model's mean over users with its 95% bootstrap interval")
    assert "x axis: NDCG@10 from 0.02 to 0.04" in text and "y axis: model (2 values: a, b)" in text


def test_interval_chart_names_missing_columns():
    with pytest.raises(ValueError, match="low"):
        charts.interval_chart(pd.DataFrame({"model": [], "metric": [], "value": [], "high": []}))
