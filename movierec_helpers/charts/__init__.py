"""Charts: interactive Altair charts of data and embeddings, Matplotlib figures of training.

The notebooks use ``from movierec_helpers import charts`` and call the Altair chart
functions from here.

- :mod:`~movierec_helpers.charts.interactive`: Altair charts of ratings, embeddings and neighbours;
- :mod:`~movierec_helpers.charts.training`: Matplotlib training curves;
- :mod:`~movierec_helpers.charts.retrieval`: recall against cost and speed, catalogue growth;
- :mod:`~movierec_helpers.charts.tradeoffs`: metrics against a re-ranking parameter, models side by side;
- :mod:`~movierec_helpers.charts.intervals`: metrics per model with their confidence intervals;
- :mod:`~movierec_helpers.charts.describe`: every chart and figure described in words (its
  ``description`` and text fallback), made from its own spec and data;
- :mod:`~movierec_helpers.charts.export`: ``save_chart``, SVG and PNG files that keep the description.
"""

from movierec_helpers.charts.describe import describe_figure, describe_vegalite, text_fallback
from movierec_helpers.charts.export import save_chart
from movierec_helpers.charts.interactive import (
    embedding_norm_chart,
    embedding_scatter,
    enable_offline_renderer,
    movie_histograms,
    rounded,
    sliced_histograms,
    training_curves,
    user_histograms,
)
from movierec_helpers.charts.intervals import interval_chart
from movierec_helpers.charts.retrieval import catalogue_scaling_chart, recall_cost_chart
from movierec_helpers.charts.tradeoffs import model_comparison_chart, tradeoff_chart

__all__ = [
    "describe_figure",
    "describe_vegalite",
    "save_chart",
    "text_fallback",
    "catalogue_scaling_chart",
    "recall_cost_chart",
    "model_comparison_chart",
    "tradeoff_chart",
    "interval_chart",
    "embedding_norm_chart",
    "embedding_scatter",
    "enable_offline_renderer",
    "movie_histograms",
    "rounded",
    "sliced_histograms",
    "training_curves",
    "user_histograms",
]
