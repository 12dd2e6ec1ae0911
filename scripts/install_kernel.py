"""Registers the course's Jupyter kernels inside the virtual environment.

- ``movierec``: what students and the notebooks use; TensorFlow's C++ log level raised.
- ``movierec-grading``: the same with memory and CPU-time limits
  (:mod:`movierec_helpers.limited_kernel`); nbgrader grades submissions with it.
"""

import json
import subprocess
import sys
from pathlib import Path

ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore::DeprecationWarning"}


def install(name: str, display: str, argv: list[str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", name,
         "--display-name", display],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    spec_path = Path(sys.prefix) / "share" / "jupyter" / "kernels" / name / "kernel.json"
    spec = json.loads(spec_path.read_text())
    spec["env"] = ENV
    if argv:
        spec["argv"] = argv
    spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    print(f"installed kernel {name!r} at {spec_path.parent}")


install("movierec", "Python 3 (movierec)")
install("movierec-grading", "Python 3 (movierec, grading limits)",
        [sys.executable, "-m", "movierec_helpers.limited_kernel", "-f", "{connection_file}"])
