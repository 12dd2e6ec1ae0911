"""Output limits in bytes while grading: what a submission prints cannot flood the stored notebook.

nbgrader's ``LimitOutput`` counts lines, so one line of 200 MB passes it. This preprocessor
runs right after execution in ``nbgrader autograde``: an output over ``max_output_bytes`` is
cut to that size with a marked end, and once a notebook's outputs pass
``max_notebook_bytes`` every further output over 1 KiB is replaced by a marker. Small
outputs (a test cell's score, an error's name) always stay, so what nbgrader scores is not
changed by the cut. The notebook's metadata records how many outputs were cut
(``movierec.truncated_outputs``), which the grading report lists.
"""

from __future__ import annotations

import json

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer

KEEP_BYTES = 1024
MARK = "\n[... output cut by the grader: {size:,} bytes, over the limit of {limit:,} bytes ...]\n"


def output_size(output: dict) -> int:
    """The bytes an output takes in the notebook file."""
    return len(json.dumps(output, ensure_ascii=False).encode("utf-8"))


def _cut_text(text, limit: int, size: int) -> str:
    text = "".join(text) if isinstance(text, list) else str(text)
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore") + MARK.format(size=size, limit=limit)


def cut_output(output: dict, limit: int) -> dict:
    """The output cut to about ``limit`` bytes, with a marker that says so."""
    size = output_size(output)
    kind = output.get("output_type")
    if kind == "stream":
        return {**output, "text": _cut_text(output.get("text", ""), limit, size)}
    if kind == "error":
        return {
            **output,
            "evalue": _cut_text(output.get("evalue", ""), min(limit, 2000), size),
            "traceback": [_cut_text(output.get("traceback", []), limit, size)],
        }
    data = output.get("data", {})
    plain = data.get("text/plain", "")
    kept = {"text/plain": _cut_text(plain, limit, size)}
    return {**output, "data": kept, "metadata": {}}


class LimitOutputBytes(Preprocessor):
    """Cuts outputs over a size in bytes, per output and per notebook."""

    enabled = Bool(True).tag(config=True)
    max_output_bytes = Integer(1_000_000, help="Largest output kept whole, in bytes").tag(config=True)
    max_notebook_bytes = Integer(10_000_000, help="Outputs kept in one notebook, in bytes").tag(config=True)

    def preprocess(self, nb, resources):
        total, cut = 0, 0
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            for index, output in enumerate(cell.get("outputs", [])):
                size = output_size(output)
                if size > KEEP_BYTES and total + size > self.max_notebook_bytes:
                    cell.outputs[index] = type(output)(cut_output(output, 0))
                    cut += 1
                elif size > self.max_output_bytes:
                    cell.outputs[index] = type(output)(cut_output(output, self.max_output_bytes))
                    cut += 1
                total += output_size(cell.outputs[index])
        if cut:
            nb.metadata.setdefault("movierec", {})["truncated_outputs"] = cut
        return nb, resources
