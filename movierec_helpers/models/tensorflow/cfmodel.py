"""CFModel: a compiled TF2 training loop for collaborative-filtering models.

The model holds named embedding variables, a loss (a callable returning a scalar
tensor) and groups of metrics (mappings of name -> callable). ``train`` (shared with the
PyTorch track, :mod:`~movierec_helpers.models.training_loop`) runs the optimisation steps
inside one ``tf.function`` per logging interval, so Python only sees the device at
logging points. It places variables where TensorFlow does: on a
GPU when one is visible, else on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from movierec_helpers.models.training_loop import TrainingDivergedError, TrainingLoop

LossFn = Callable[[], tf.Tensor]

__all__ = ["CFModel", "TrainingDivergedError"]


class CFModel(TrainingLoop):
    """A collaborative-filtering model trained by gradient descent.

    ``train``, ``evaluate``, ``history`` and ``embeddings`` are those of
    :class:`~movierec_helpers.models.training_loop.TrainingLoop`.

    Args:
        embedding_vars: name -> ``tf.Variable``, e.g. ``{"user_id": U, "movie_id": V}``.
        loss: callable with no arguments returning the scalar loss to minimise.
        metrics: groups of metrics; each group maps a name to a callable returning a
            scalar tensor, or is one callable returning such a mapping (for metrics
            that share work, e.g. one sampled test batch). Each group is plotted in its
            own panel.
        trainable_variables: the variables to optimise (default: the embeddings), e.g.
            the embeddings plus hidden-layer weights of a softmax model.
        jit_compile: compile the training steps with XLA: ``True``, ``False``, or
            ``None`` to try XLA on the first call and keep it if the loss compiles.

    Raises:
        ValueError: ``user_id`` and ``movie_id`` embeddings of different dimensions.
    """

    def __init__(
        self,
        embedding_vars: Mapping[str, tf.Variable],
        loss: LossFn,
        metrics: Sequence[Mapping[str, LossFn] | Callable[[], Mapping[str, tf.Tensor]]] = (),
        trainable_variables: Sequence[tf.Variable] | None = None,
        jit_compile: bool | None = None,
    ) -> None:
        super().__init__(embedding_vars, loss, metrics)
        self._variables = list(trainable_variables or self._embedding_vars.values())
        self._xla = jit_compile
        # optimizer name -> (optimizer, training function, initial optimizer state): later
        # calls to train() reuse the traced function instead of tracing it again.
        self._compiled: dict[str, tuple] = {}
        self._opt = self._chunk = None
        # A tf.function over a closure, not a @tf.function method: TensorFlow binds a
        # decorated method's `self` to a weak `TfMethodTarget` proxy, and on some call
        # paths the method body receives that proxy instead of the model (issue #28).
        self._compiled_metrics = tf.function(_metrics_function(self._metrics, self._loss))

    @staticmethod
    def _to_numpy(variable) -> np.ndarray:
        return variable.numpy()

    @property
    def device(self) -> str:
        """``"GPU"`` or ``"CPU"``: where the variables (and so the training) live."""
        placement = self._variables[0].device.upper()
        return "GPU" if "GPU" in placement else "CPU"

    # -- the TrainingLoop hooks ----------------------------------------------------------

    def _evaluate_groups(self) -> list[dict[str, tf.Tensor]]:
        return self._compiled_metrics()

    def _begin(self, optimizer, learning_rate: float) -> None:
        """An optimizer with fresh state (as the seed's train() had) and its step function."""
        if isinstance(optimizer, str) and optimizer in self._compiled:
            opt, chunk, initial = self._compiled[optimizer]
            for var, value in zip(opt.variables, initial):
                var.assign(value)
            opt.learning_rate = learning_rate
            self._opt, self._chunk = opt, chunk
            return
        opt = _make_optimizer(optimizer, learning_rate)
        opt.build(self._variables)
        self._opt, self._chunk = opt, self._compile_chunk(opt)
        if isinstance(optimizer, str):
            self._compiled[optimizer] = (opt, self._chunk, [v.numpy() for v in opt.variables])

    def _snapshot(self) -> list[np.ndarray]:
        return [v.numpy() for v in self._variables]

    def _restore(self, snapshot: list[np.ndarray]) -> None:
        for var, value in zip(self._variables, snapshot):
            var.assign(value)

    def _run(self, steps: int) -> tuple[int, float, bool]:
        self._chunk, taken, loss, finite = self._run_chunk(self._chunk, steps)
        return taken, loss, finite

    def _end(self, optimizer) -> None:
        if isinstance(optimizer, str):
            self._compiled[optimizer] = (self._opt, self._chunk, self._compiled[optimizer][2])

    # -- internals -------------------------------------------------------------------

    def _compile_chunk(self, opt) -> Callable:
        variables = self._variables
        loss_fn = self._loss

        def run(num_steps):
            def body(i, _, finite):
                with tf.GradientTape() as tape:
                    loss = loss_fn()
                grads = tape.gradient(loss, variables)
                opt.apply_gradients(zip(grads, variables))
                return i + 1, loss, tf.math.is_finite(loss)

            def cond(i, _, finite):
                return tf.logical_and(i < num_steps, finite)

            return tf.while_loop(cond, body, (tf.constant(0), tf.constant(0.0), tf.constant(True)))

        return run

    def _run_chunk(self, chunk, steps):
        """Runs one logging interval, choosing XLA on first use if the loss compiles."""
        if not isinstance(chunk, tf.types.experimental.PolymorphicFunction):
            candidates = [True, False] if self._xla is None else [self._xla]
            for jit in candidates:
                compiled = tf.function(chunk, jit_compile=jit)
                try:
                    result = compiled(tf.constant(steps))
                except tf.errors.OpError:
                    # XLA cannot compile every op (e.g. sparse-dense matmul on CPU).
                    if jit is False or self._xla is not None:
                        raise
                    continue
                self._xla = jit
                chunk = compiled
                break
        else:
            result = chunk(tf.constant(steps))
        taken, loss, finite = (x.numpy() for x in result)
        return chunk, int(taken), float(loss), bool(finite)


def _metrics_function(metrics: list, loss: LossFn) -> Callable[[], list[dict[str, tf.Tensor]]]:
    """Every metric group evaluated in one call (the loss alone when there are none)."""

    def evaluate_all() -> list[dict[str, tf.Tensor]]:
        groups = [
            dict(group()) if callable(group) else {name: fn() for name, fn in group.items()}
            for group in metrics
        ]
        return groups or [{"loss": loss()}]

    return evaluate_all


def _make_optimizer(optimizer, learning_rate: float):
    import keras

    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate)
    if optimizer == "adagrad":
        # The TF1 AdagradOptimizer the seed used starts its accumulators at 0.1.
        return keras.optimizers.Adagrad(learning_rate=learning_rate, initial_accumulator_value=0.1)
    raise ValueError(f"Unknown optimizer {optimizer!r}: use 'sgd', 'adagrad' or a keras optimizer instance.")
