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
