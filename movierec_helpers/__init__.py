"""movierec_helpers: what the course notebooks import.

- ``data``: MovieLens loading, checks, splits, the student's own ratings;
- ``models``: the training loop (CFModel) and the models built on it;
- ``evaluation``: scores, recommendations, ranking metrics, 2-D maps, beyond-accuracy metrics;
- ``serving``: exact and approximate retrieval, candidate pools, re-ranking;
- ``charts``: Altair charts and Matplotlib training figures;
- ``exercises``: helpers of the exercises' test cells;
- ``check``: ``python -m movierec_helpers.check NOTEBOOK``, the check before handing in;
- ``kernel_output``: keeps TensorFlow's C++ log lines out of cells on any kernel.
- ``tracks``: which track (TensorFlow, PyTorch or shared) a module or a notebook belongs to.

Grading a class is the instructor's package (``movierec_instructor``); benchmarks live in
the repository's ``benchmarks/`` folder.
"""

from importlib.metadata import PackageNotFoundError, version

from movierec_helpers.kernel_output import hide_library_warnings, keep_native_logs_out_of_cells

# Import movierec_helpers before TensorFlow: in any Jupyter kernel, TensorFlow's C++ log
# lines then go to the kernel's log instead of the cells, and its own deprecation notices
# stay out (see kernel_output).
keep_native_logs_out_of_cells()
hide_library_warnings()

try:
    __version__ = version("movierec")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
