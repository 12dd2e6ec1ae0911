"""Registers ``movierec-grading``, the kernel nbgrader grades submissions with.

It is the students' ``movierec`` kernel (same environment, installed by
``scripts/install_kernel.py``) started through :mod:`movierec_instructor.integrity.limited_kernel`,
which applies the grading limits.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

NAME = "movierec-grading"


def kernels_dir() -> Path:
    """Where this environment's kernel specs live."""
    return Path(sys.prefix) / "share" / "jupyter" / "kernels"


def install() -> Path:
    """Installs the grading kernel next to ``movierec`` and returns its folder.

    Raises:
        FileNotFoundError: the course kernel ``movierec`` is not installed (run ``make setup``).
    """
    student = kernels_dir() / "movierec"
    if not (student / "kernel.json").exists():
        raise FileNotFoundError(
            f"The course kernel 'movierec' is not installed in {kernels_dir()}; run `make setup` "
            "(or `python scripts/install_kernel.py`) first."
        )
    target = kernels_dir() / NAME
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(student, target)
    spec = json.loads((student / "kernel.json").read_text())
    spec["display_name"] = "Python 3 (movierec, grading)"
    # Interrupts travel as messages: a signal to the launcher would not reach the sandbox.
    spec["interrupt_mode"] = "message"
    # The same command line, with the limited launcher in place of ipykernel's.
    spec["argv"] = [
        sys.executable,
        "-m",
        "movierec_instructor.integrity.limited_kernel",
        *spec["argv"][spec["argv"].index("ipykernel_launcher") + 1 :],
    ]
    (target / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    return target


if __name__ == "__main__":
    print(f"installed kernel {NAME!r} at {install()}")
