"""Keeps library noise out of notebook cells, in any Jupyter kernel.

TensorFlow's C++ runtime writes to file descriptor 2 ("oneDNN custom operations are on",
"Could not find cuda drivers", and in notebook 04 "oneDNN supports DT_INT64 only on
platforms with AVX-512"); ``TF_CPP_MIN_LOG_LEVEL`` does not stop the lines written before
its logging starts. A stock ipykernel (Colab's, a hub's ``python3``) copies that descriptor
into the running cell, where they look like errors, and nbgrader gives 0 to a test cell
that writes to stderr. The course's own kernel starts with ``capture_fd_output`` off; in
any other kernel, importing :mod:`movierec_helpers` (before TensorFlow) points descriptor 2
back at the kernel's own log, as that option would. Python's ``sys.stderr`` (tracebacks,
warnings) still shows in cells: it does not go through descriptor 2 in a kernel.

Deprecation and future warnings that TensorFlow and Keras raise about their own code (e.g.
Keras 3.13's ``tf2onnx_lib`` on NumPy 2.1) are advice for their authors; the course kernel
hides them through its environment, and :func:`hide_library_warnings` does the same in any
other kernel. Warnings about the student's own code still show.
"""

from __future__ import annotations

import os
import sys
import warnings

LIBRARIES = r"(keras|tensorflow|tf_keras|absl|google\.protobuf|ml_dtypes)(\.|$)"


def keep_native_logs_out_of_cells() -> bool:
    """Points file descriptor 2 at the kernel's log if ipykernel copies it into cells.

    Returns:
        True when it changed something (a kernel that captured descriptor 2), else False.
    """
    stream = sys.stderr
    original = getattr(stream, "_original_stdstream_copy", None)  # ipykernel's copy of the real fd 2
    if type(stream).__name__ != "OutStream" or original is None:
        return False
    try:
        os.dup2(original, 2)
    except OSError:
        return False
    return True


# PyTorch's notices about how it was called, not about a result: every sparse tensor built
# without an explicit invariant-check choice, every tensor made from a read-only NumPy array
# (pandas 3 hands out read-only arrays; the course never writes its tensors in place), and
# every float() of a loss that requires gradients (reading a value is what the course does),
# and the beta status of the CSR tensors the library's PyTorch MSE uses for its gradient.
TORCH_NOTICES = (
    r"Sparse invariant checks are implicitly disabled",
    r"Sparse CSR tensor support is in beta state",
    r"The given NumPy array is not writable",
    r"Converting a tensor with requires_grad=True to a scalar",
)


def hide_library_warnings() -> None:
    """Ignores DeprecationWarning and FutureWarning raised from TensorFlow's and Keras' own
    modules, and PyTorch's usage notices (:data:`TORCH_NOTICES`)."""
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=LIBRARIES)
    for notice in TORCH_NOTICES:
        warnings.filterwarnings("ignore", message=notice, category=UserWarning)
