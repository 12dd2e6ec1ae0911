"""Registers the course's Jupyter kernel, ``movierec``, inside the virtual environment.

Notebooks import TensorFlow the usual way (``import tensorflow as tf``). TensorFlow's C++
runtime writes log lines (start-up messages, "oneDNN supports DT_INT64 only on platforms
with AVX-512" on other CPUs) straight to file descriptor 2, some before its log level is
read, and ipykernel normally copies that descriptor into the running cell, where nbgrader
gives 0 to a test cell that writes to stderr. The course kernel therefore starts with
``capture_fd_output`` off: C-level output goes to the kernel's own log (the terminal of
``make lab``), while Python's ``sys.stderr`` (tracebacks, warnings) still shows in cells.
TensorFlow's Python logger is set to errors only when the kernel starts.
Python deprecation warnings of the libraries are hidden by the kernel's environment.
"""

import json
import subprocess
import sys
from pathlib import Path

NAME = "movierec"
KERNEL_OPTIONS = [
    "--IPKernelApp.capture_fd_output=False",
    # TensorFlow's Python-side warnings (e.g. Keras' "triggered tf.function retracing") are
    # advice for library authors, not for students. In an interactive shell TensorFlow sets its
    # logger to INFO and prints to stdout unless the root logger has a handler: give it one
    # that shows errors only, and keep TensorFlow's logger at errors.
    "--IPKernelApp.exec_lines=["
    + repr(
        "import logging as _logging, sys as _sys; _handler = _logging.StreamHandler(_sys.stderr); "
        "_handler.setLevel(_logging.ERROR); _logging.getLogger().addHandler(_handler); "
        "_logging.getLogger('tensorflow').setLevel(_logging.ERROR); del _logging, _sys, _handler"
    )
    + "]",
]
ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning",
    "KERAS_BACKEND": "tensorflow",
}


def install() -> Path:
    """Installs the kernel spec and returns its folder."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            NAME,
            "--display-name",
            "Python 3 (movierec)",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    spec_path = Path(sys.prefix) / "share" / "jupyter" / "kernels" / NAME / "kernel.json"
    spec = json.loads(spec_path.read_text())
    spec["env"] = ENV
    spec["argv"] = [*spec["argv"][:-2], *KERNEL_OPTIONS, *spec["argv"][-2:]]  # before -f {file}
    spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    return spec_path.parent


if __name__ == "__main__":
    print(f"installed kernel {NAME!r} at {install()}")
