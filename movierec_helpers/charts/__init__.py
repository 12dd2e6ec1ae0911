"""Charts: interactive Altair charts of data and embeddings, Matplotlib figures of training.

The notebooks use ``from movierec_helpers import charts`` and call the Altair chart
functions from here.

- :mod:`~movierec_helpers.charts.interactive`: Altair charts of ratings, embeddings and neighbours;
- :mod:`~movierec_helpers.charts.training`: Matplotlib training curves;
- :mod:`~movierec_helpers.charts.retrieval`: recall against cost and speed, catalogue growth;
- :mod:`~movierec_helpers.charts.tradeoffs`: metrics against a re-ranking parameter.
"""

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
from movierec_helpers.charts.retrieval import catalogue_scaling_chart, recall_cost_chart
from movierec_helpers.charts.tradeoffs import tradeoff_chart

__all__ = [
    "catalogue_scaling_chart",
    "recall_cost_chart",
    "tradeoff_chart",
    "embedding_norm_chart",
    "embedding_scatter",
    "enable_offline_renderer",
    "movie_histograms",
    "rounded",
    "sliced_histograms",
    "training_curves",
    "user_histograms",
]
