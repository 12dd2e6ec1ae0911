"""Progress bars for training runs: shown in JupyterLab, hidden while grading and testing.

``make lab`` sets ``MOVIEREC_PROGRESS=1``; graded and tested runs set it to ``0`` (a bar's
output differs run to run, and nbgrader must not see it).
"""

from __future__ import annotations

import os
import sys

PROGRESS_ENV = "MOVIEREC_PROGRESS"


def progress_enabled(progress: bool | None = None) -> bool:
    """``progress`` when given, else whether ``MOVIEREC_PROGRESS`` is not ``0``."""
    if progress is None:
        return os.environ.get(PROGRESS_ENV, "1") != "0"
    return progress


def progress_bar(total: int, progress: bool | None = None, desc: str = "training"):
    """A tqdm bar of ``total`` steps (a notebook widget inside Jupyter), or None when hidden."""
    if not progress_enabled(progress) or total == 0:
        return None
    if "ipykernel" in sys.modules:
        from tqdm.notebook import tqdm
    else:
        from tqdm import tqdm
    return tqdm(total=total, desc=desc, leave=False, disable=None)


def keras_progress(progress: bool | None = None) -> list:
    """Callbacks for ``keras.Model.fit(..., verbose=0)``: one bar over the epochs with the latest metrics.

    Args:
        progress: show it (default: :func:`progress_enabled`).

    Returns:
        ``[callback]``, or ``[]`` when progress is hidden.
    """
    if not progress_enabled(progress):
        return []
    import keras

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
