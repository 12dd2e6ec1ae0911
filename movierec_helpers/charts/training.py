"""Matplotlib figures of training runs (metric curves and a 3-D view of embeddings)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from movierec_helpers.charts.describe import describe_figure


def training_figure(
    history: pd.DataFrame,
    metric_groups: Sequence[Sequence[str]],
    embeddings: Mapping[str, np.ndarray] | None = None,
) -> plt.Figure:
    """Draws one panel of curves per metric group, plus the embeddings' first 3 dims.

    Args:
        history: one row per logging point, with ``iteration`` and metric columns.
        metric_groups: names of the metrics drawn together in each panel.
        embeddings: name -> ``[n, d]`` array; the first three coordinates are drawn.

    Returns:
        The figure (not shown; see :func:`show_figure`).
    """
    embeddings = {k: v for k, v in (embeddings or {}).items() if v.ndim == 2 and v.shape[1] >= 3}
    panels = len(metric_groups) + (1 if embeddings else 0)
    fig = plt.figure(figsize=(5 * panels, 4))
    for i, group in enumerate(metric_groups):
        ax = fig.add_subplot(1, panels, i + 1)
        for name in group:
            ax.plot(history["iteration"], history[name], label=name)
        ax.set_xlabel("iteration")
        ax.set_ylabel(", ".join(group))
        ax.legend()
    if embeddings:
        ax = fig.add_subplot(1, panels, panels, projection="3d")
        for name, values in embeddings.items():
            ax.scatter(values[:, 0], values[:, 1], values[:, 2], s=2, alpha=0.5, label=name)
        ax.set_title("embeddings, first 3 dimensions")
        ax.set_xlabel("dimension 1")
        ax.set_ylabel("dimension 2")
        ax.set_zlabel("dimension 3")
        ax.legend()
    fig.tight_layout()
    return fig


def figure_bundle(fig: plt.Figure) -> tuple[dict, dict]:
    """A figure as a notebook output that says what it shows: PNG, an ``<img>`` with alt text, and text.

    The PNG also carries the description in its metadata (``Description``), so a saved copy
    keeps it. Front ends that render HTML show the ``<img>`` with its ``alt``; the others the
    PNG; terminals and screen readers the text.
    """
    description = describe_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72, metadata={"Description": description, "Software": None})
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    width, height = (int(v) for v in fig.get_size_inches() * 72)
    img = f'<img src="data:image/png;base64,{png}" alt="{html.escape(description)}" width="{width}">'
    bundle = {"text/html": img, "image/png": png, "text/plain": description}
    return bundle, {"image/png": {"width": width, "height": height}}


def show_figure(fig: plt.Figure) -> None:
    """Displays a figure in a notebook (once, described in words: :func:`figure_bundle`) and releases it."""
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            bundle, metadata = figure_bundle(fig)
            display(bundle, metadata=metadata, raw=True)
    finally:
        plt.close(fig)
