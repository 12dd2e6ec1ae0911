"""The framework-free part of the course's training loop: history, logging, divergence, charts.

:class:`TrainingLoop` runs ``train`` the same way in both tracks: steps in chunks of
``log_every``, the metrics logged after each chunk, a progress bar in the lab, the variables
restored and :class:`TrainingDivergedError` raised when the loss stops being finite. Each
framework supplies the steps: :class:`movierec_helpers.models.tensorflow.cfmodel.CFModel` (TensorFlow)
and :class:`movierec_helpers.models.torch.cfmodel.CFModel` (PyTorch).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from movierec_helpers.exercises.checks import explains_unfinished_exercises, is_grading
from movierec_helpers.models.progress import progress_bar


class TrainingDivergedError(FloatingPointError):
    """Raised when the loss becomes NaN or infinite during training."""


class TrainingLoop(ABC):
    """Named embeddings, a loss, metric groups and the loop that trains them.

    Args:
        embedding_vars: name -> variable, e.g. ``{"user_id": U, "movie_id": V}``.
        loss: callable with no arguments returning the scalar loss to minimise.
        metrics: groups of metrics; each maps a name to a callable returning a scalar, or is
            one callable returning such a mapping. Each group is plotted in its own panel.

    Raises:
        TypeError: ``loss`` is not callable.
        ValueError: ``user_id`` and ``movie_id`` embeddings of different dimensions.
    """

    def __init__(self, embedding_vars: Mapping[str, Any], loss: Callable, metrics: Sequence = ()) -> None:
        if not callable(loss):
            raise TypeError(
                "loss must be a callable that returns a scalar tensor, e.g. "
                "lambda: sparse_mean_square_error(A_train, U, V); got "
                f"{type(loss).__name__}."
            )
        dims = {name: var.shape[-1] for name, var in embedding_vars.items()}
        if "user_id" in dims and "movie_id" in dims and dims["user_id"] != dims["movie_id"]:
            raise ValueError(
                f"The user embedding dimension {dims['user_id']} must match the movie "
                f"embedding dimension {dims['movie_id']}."
            )
        self._embedding_vars = dict(embedding_vars)
        self._loss = loss
        self._metrics = [group if callable(group) else dict(group) for group in metrics]
        self._group_names: list[list[str]] = []
        self._iteration = 0
        self._history: list[dict[str, float]] = []

    # -- what each framework provides --------------------------------------------------

    @staticmethod
    @abstractmethod
    def _to_numpy(variable) -> np.ndarray:
        """A variable's current value as a NumPy array."""

    @property
    @abstractmethod
    def device(self) -> str:
        """``"GPU"`` or ``"CPU"``: where the variables (and so the training) live."""

    @abstractmethod
    def _evaluate_groups(self) -> list[dict[str, Any]]:
        """Every metric group evaluated now (the loss alone when there are none)."""

    @abstractmethod
    def _begin(self, optimizer, learning_rate: float) -> None:
        """Gets an optimizer with fresh state and the step function ready."""

    @abstractmethod
    def _snapshot(self) -> list:
        """Copies of the trained variables, to restore if the loss diverges."""

    @abstractmethod
    def _restore(self, snapshot: list) -> None:
        """Puts the values of :meth:`_snapshot` back."""

    @abstractmethod
    def _run(self, steps: int) -> tuple[int, float, bool]:
        """Takes up to ``steps`` steps; stops early at a non-finite loss.

        Returns:
            (steps taken, the last loss, whether it was finite).
        """

    @abstractmethod
    def _end(self, optimizer) -> None:
        """Called once a call to :meth:`train` ends, even by an error."""

    # -- shared ------------------------------------------------------------------------

    @property
    def embeddings(self) -> dict[str, np.ndarray]:
        """The current embeddings as NumPy arrays, by name."""
        return {name: self._to_numpy(var) for name, var in self._embedding_vars.items()}

    @property
    def history(self) -> pd.DataFrame:
        """One row per logging point: ``iteration`` and every metric."""
        return pd.DataFrame(self._history)

    @property
    def iteration(self) -> int:
        """Number of optimisation steps taken so far, over all calls to ``train``."""
        return self._iteration

    @explains_unfinished_exercises
    def evaluate(self) -> dict[str, float]:
        """Evaluates every metric (and the loss) now."""
        groups = self._evaluate_groups()
        self._group_names = [list(group) for group in groups]
        return {name: float(value) for group in groups for name, value in group.items()}

    @explains_unfinished_exercises
    def train(
        self,
        num_iterations: int = 100,
        learning_rate: float = 1.0,
        optimizer: str | object = "sgd",
        plot_results: bool | None = None,
        log_every: int = 10,
        progress: bool | None = None,
    ) -> dict[str, float]:
        """Trains from the current state and returns the metrics after the last step.

        Args:
            num_iterations: number of optimisation steps.
            learning_rate: step size for ``"sgd"`` and ``"adagrad"``.
            optimizer: ``"sgd"``, ``"adagrad"`` or an optimizer of the model's framework.
            plot_results: draw the metric curves and the embeddings at the end; default:
                yes, except while nbgrader grades the notebook (no test reads the figure,
                and drawing it is most of a short graded run's time).
            log_every: steps between two evaluations of the metrics.
            progress: show a progress bar; default: yes, unless the environment
                variable ``MOVIEREC_PROGRESS`` is ``0`` (set when notebooks are graded).

        Returns:
            Metric name -> value after the last step.

        Raises:
            TrainingDivergedError: the loss became NaN or infinite; the variables are
                restored to their values at the last logging point.
        """
        if num_iterations < 0 or log_every < 1:
            raise ValueError("num_iterations must be >= 0 and log_every >= 1.")
        self._begin(optimizer, learning_rate)
        if not self._history:
            self._record()
        bar = progress_bar(num_iterations, progress)
        done = 0
        try:
            while done < num_iterations:
                steps = min(log_every, num_iterations - done)
                snapshot = self._snapshot()
                taken, last_loss, finite = self._run(steps)
                if not finite:
                    self._restore(snapshot)
                    failed_at = self._iteration + taken
                    raise TrainingDivergedError(
                        f"The loss became {last_loss} at iteration {failed_at} (learning rate "
                        f"{learning_rate}). The embeddings were restored to iteration "
                        f"{self._iteration}. Try a lower learning rate (e.g. "
                        f"{learning_rate / 10:g}) or a smaller init_stddev."
                    )
                done += steps
                self._iteration += steps
                latest = self._record()
                if bar is not None:
                    bar.update(steps)
                    bar.set_postfix({k: f"{v:.4f}" for k, v in latest.items() if k != "iteration"})
        finally:
            if bar is not None:
                bar.close()
            self._end(optimizer)
        results = {k: v for k, v in self._history[-1].items() if k != "iteration"}
        summary = ", ".join(f"{k}={v:.4f}" for k, v in results.items())
        print(f"iteration {self._iteration} ({self.device}): {summary}")
        if plot_results is None:
            plot_results = not is_grading()
        if plot_results:
            from movierec_helpers.charts.training import show_figure, training_figure

            show_figure(training_figure(self.history, self._group_names, self.embeddings))
        return results

    def _record(self) -> dict[str, float]:
        row = {"iteration": self._iteration, **self.evaluate()}
        self._history.append(row)
        return row
