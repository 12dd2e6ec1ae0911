"""What a student reads in feedback: plain words for stopped cells, no hidden test code.

An nbgrader preprocessor run by ``movierec feedback`` before nbgrader's own
``ClearHiddenTests`` (which removes hidden tests from cell sources only):

* an error output whose traceback quotes a line of the cell's hidden tests gets that line
  replaced by ``<hidden test>``; the error's message (the test's plain-words hint) stays;
* a cell stopped at the time limit (nbgrader interrupts it: ``KeyboardInterrupt``) or out of
  memory (``MemoryError``) gets one sentence saying which limit and what to look for.
"""

from __future__ import annotations

import os
import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def hidden_lines(source: str) -> set[str]:
    """The non-trivial lines between the hidden-test markers of a cell."""
    return {
        line.strip()
        for block in HIDDEN.findall(source)
        for line in block.splitlines()
        if len(line.strip()) >= 8
    }


def scrub(text: str, hidden: set[str]) -> str:
    """``text`` with every line that quotes a hidden test line replaced."""
    out = []
    for line in text.split("\n"):
        plain = ANSI.sub("", line)
        out.append("<hidden test>" if any(h in plain for h in hidden) else line)
    return "\n".join(out)


def plain_words(ename: str, timeout: int, memory_gb: str) -> str | None:
    """One sentence for the errors that grading limits cause, or None."""
    if ename in ("KeyboardInterrupt", "CellTimeoutError", "TimeoutError"):
        return (
            f"This cell was stopped after the time limit of {timeout} s: it, or a function "
            "it calls, runs too long or never ends (look for an endless loop)."
        )
    if ename == "MemoryError":
        return (
            f"This cell ran out of memory (the limit is {memory_gb} GB): it, or a function it "
            "calls, builds something far too large (look for an ever-growing list or a dense "
            "users x movies matrix)."
        )
    return None


class ExplainErrors(NbGraderPreprocessor):
    """Removes hidden test code from tracebacks and explains limit errors (see the module doc)."""

    scrub_hidden = Bool(True, help="replace traceback lines that quote hidden tests").tag(config=True)
    timeout = Integer(180, help="the per-cell time limit grading used (seconds)").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        hidden = hidden_lines(cell.source) if self.scrub_hidden else set()
        memory = os.environ.get("MOVIEREC_KERNEL_MEMORY_GB", "16")
        timeout = self.timeout
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [scrub(line, hidden) for line in output.get("traceback", [])]
                message = plain_words(output.get("ename", ""), timeout, memory)
                if message:
                    output["traceback"] = [message, *output["traceback"][-3:]]
                    output["evalue"] = message
            elif output.get("output_type") == "stream":
                output["text"] = scrub(output.get("text", ""), hidden)
        return cell, resources
