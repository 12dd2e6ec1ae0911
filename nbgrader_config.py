"""nbgrader configuration for the movierec course.

solutions/ holds the source notebooks (with solutions and hidden tests) and notebooks/ the
generated student release. Grading runs the `movierec` kernel (registered by `make setup`).
"""

c = get_config()  # noqa: F821

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "my_ratings.csv"]

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
