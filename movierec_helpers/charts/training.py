"""Matplotlib figures of training runs (metric curves and a 3-D view of embeddings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


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


def show_figure(fig: plt.Figure) -> None:
    """Displays a figure in a notebook (once) and releases it."""
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(fig)
    finally:
        plt.close(fig)
