"""Notebooks on a stock Jupyter kernel (Colab's, a hub's `python3`) show no TensorFlow C++ lines (#22)."""

import sys

import nbformat
import pytest


def _run_on_stock_kernel(first_line: str) -> list:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            first_line + "import tensorflow as tf\nprint(int(tf.reduce_sum(tf.constant([1, 2], tf.int64))))"
        ),
        nbformat.v4.new_code_cell(
            "import os, sys\nprint('from Python', file=sys.stderr)\nos.write(2, b'native\\n')"
        ),
    ]
    # The stock kernel spec ipykernel installs: fd 2 is copied into cells there.
    NotebookClient(nb, kernel_name="python3", timeout=180).execute(
        env={"PATH": f"{sys.prefix}/bin:/usr/bin:/bin"}
    )
    return [
        [(o.get("name"), o.get("text", "")) for o in c.outputs if o.get("output_type") == "stream"]
        for c in nb.cells
    ]


@pytest.mark.slow
def test_stock_kernel_copies_native_lines_into_cells_without_the_course_package():
    setup, _ = _run_on_stock_kernel("")
    assert any(name == "stderr" for name, _ in setup), "the problem this guards against shows here"


@pytest.mark.slow
def test_importing_the_course_package_first_keeps_them_out():
    setup, other = _run_on_stock_kernel("import movierec_helpers\n")
    assert setup == [("stdout", "3\n")]
    assert ("stderr", "from Python\n") in other, "Python's own stderr still shows"
    assert not any("native" in text for _, text in other)


def test_library_deprecation_notices_hidden_the_students_own_kept():
    import warnings

    from movierec_helpers.kernel_output import hide_library_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hide_library_warnings()
        warnings.warn_explicit(
            "np.object is deprecated",
            FutureWarning,
            "tf2onnx_lib.py",
            8,
            module="keras.src.export.tf2onnx_lib",
        )
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="tensorflow.python.x")
        warnings.warn_explicit("your code", FutureWarning, "<cell>", 3, module="__main__")
    assert [str(w.message) for w in caught] == ["your code"]
