"""Helpers for the movierec course: data, training loops, recommendation utilities, charts.

Notebooks import what they need from the submodules, e.g.
``from movierec_helpers.data import load_movielens, split_ratings``.
"""

__version__ = "0.1.0"
