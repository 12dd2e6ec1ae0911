"""nbgrader configuration for the movierec course.

solutions/ holds the source notebooks (with solutions and hidden tests) and notebooks/ the
generated student release. Grading runs the `movierec-grading` kernel (registered by `make setup`).
"""

import os

from jupyter_core.paths import jupyter_runtime_dir

c = get_config()  # noqa: F821

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "my_ratings.csv"]

# Grading kernels run in an OS sandbox without network (movierec_instructor/sandbox.py):
# they talk to nbgrader over IPC sockets, made under the runtime folder that
# `movierec autograde` gives each grading run (JUPYTER_RUNTIME_DIR).
c.KernelManager.transport = "ipc"
# Only this folder is bound into the sandbox: keep it apart from other kernels' files.
_sockets = os.path.join(jupyter_runtime_dir(), "movierec-grading")
os.makedirs(_sockets, mode=0o700, exist_ok=True)
c.KernelManager.ip = os.path.join(_sockets, "kernel")

# Training cells run for up to a minute on a 2-core CPU; a stuck cell is stopped. Grading
# kernels have memory and CPU-time limits (movierec_instructor/limited_kernel.py).
c.ExecutePreprocessor.timeout = 180
c.ExecutePreprocessor.kernel_name = "movierec-grading"
c.Execute.kernel_name = "movierec-grading"

# A missing or deleted test cell is put back from the source and graded.
c.CheckCellMetadata.enabled = True
c.OverwriteCells.enabled = True
c.OverwriteCells.add_missing_cells = True
c.OverwriteKernelspec.enabled = True
c.SaveAutoGrades.enabled = True

# Cap what a submission can print into the stored notebook.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
