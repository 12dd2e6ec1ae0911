"""Registers the course's Jupyter kernel, ``movierec``, inside the virtual environment.

The kernel's environment keeps TensorFlow's C++ log lines (start-up messages, oneDNN
notices on CPUs without AVX-512) out of notebook cells: notebooks import TensorFlow the
usual way (``import tensorflow as tf``), and nbgrader gives 0 to a test cell that writes
to stderr. Python deprecation warnings of the libraries are hidden the same way.
"""

import json
import subprocess
import sys
from pathlib import Path

NAME = "movierec"
ENV = {
    # 3 = errors too: TensorFlow logs a harmless oneDNN "error" on CPUs without AVX-512.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning",
    "KERAS_BACKEND": "tensorflow",
}


def install() -> Path:
    """Installs the kernel spec and returns its folder."""
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", NAME,
         "--display-name", "Python 3 (movierec)"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    spec_path = Path(sys.prefix) / "share" / "jupyter" / "kernels" / NAME / "kernel.json"
    spec = json.loads(spec_path.read_text())
    spec["env"] = ENV
    spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    return spec_path.parent


if __name__ == "__main__":
    print(f"installed kernel {NAME!r} at {install()}")
