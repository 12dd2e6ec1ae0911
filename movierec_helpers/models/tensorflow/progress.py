"""A Keras callback that shows a progress bar over the epochs of ``keras.Model.fit``."""

from __future__ import annotations

import keras

from movierec_helpers.models.progress import progress_bar, progress_enabled


def keras_progress(progress: bool | None = None) -> list:
    """Callbacks for ``keras.Model.fit(..., verbose=0)``: one bar over the epochs with the latest metrics.

    Args:
        progress: show it (default: :func:`progress_enabled`).

    Returns:
        ``[callback]``, or ``[]`` when progress is hidden.
    """
    if not progress_enabled(progress):
        return []

    class EpochBar(keras.callbacks.Callback):
        """Advances a bar at the end of each epoch and shows its loss and validation metrics."""

        def on_train_begin(self, logs=None):
            self.bar = progress_bar(self.params.get("epochs", 0), True, desc="epochs")

        def on_epoch_end(self, epoch, logs=None):
            if self.bar is not None:
                self.bar.set_postfix({k: f"{float(v):.4f}" for k, v in (logs or {}).items()}, refresh=False)
                self.bar.update(1)

        def on_train_end(self, logs=None):
            if self.bar is not None:
                self.bar.close()

    return [EpochBar()]
