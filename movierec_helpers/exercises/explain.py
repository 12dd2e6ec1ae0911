"""A failed check in a few plain lines: the test's own hint, then actual vs expected.

``PartialCredit`` prints what a student reads when a visible check fails. A bare first line
of the exception is often useless: for ``np.testing.assert_allclose`` it is always
``Not equal to tolerance rtol=...``, and TensorFlow's errors start with its internal function
names. :func:`explain_failure` keeps the lines that name the problem.
"""

from __future__ import annotations

import re

MAX_LINES = 4
MAX_WIDTH = 160
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # bold, colours: PyTorch and Keras put them in messages
TF_INTERNALS = re.compile(r"\{\{function_node [^}]*\}\}\s*")
TF_OP = re.compile(r"\s*\[Op:(?P<op>\w+)\](?:\s*name:\s*\S*)?\s*$")
NUMPY_HEADER = re.compile(r"^(Not equal to tolerance|Arrays are not (almost )?equal|Items are not equal)")
# PyTorch's messages for the usual mistakes with a sparse COO tensor, and what they mean.
TORCH_HINTS = {
    "'len(size) == sparse_dim + dense_dim' is not satisfied": "torch.sparse_coo_tensor wants indices of "
    "shape (2, number of entries): row 0 the user ids, "
    "row 1 the movie ids (an (n, 2) array needs .T)",
    "size is inconsistent with indices": "an index is outside the size you gave: the size is "
    "(num_users, num_movies), row 0 of the "
    "indices holds user ids, row 1 movie ids",
    "Cannot get indices on an uncoalesced tensor": "call .coalesce() on the sparse tensor first, then use "
    "its indices() and values() together",
}
NUMPY_NOISE = re.compile(
    r"^(Mismatch at ind(?:ex|ices):|Max (absolute|relative) difference|x and y nan location mismatch)"
)


def _short(text: str, width: int = MAX_WIDTH) -> str:
    """One line: whitespace joined, terminal escapes removed, never cut inside a word.

    Only a message longer than ``width`` words' worth (a tensor printed whole) is shortened,
    at a word boundary, saying how much was left out.
    """
    text = " ".join(ANSI_ESCAPE.sub("", text).split())
    limit = width * 4
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    cut = cut if cut > 0 else limit
    return f"{text[:cut]} ... ({len(text) - cut} more characters)"


def _numpy_lines(lines: list[str]) -> list[str]:
    """The hint, the shapes or mismatch count, then actual and expected, from a NumPy assertion."""
    hint, facts, actual, desired, index = [], [], None, None, []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("ACTUAL:"):
            actual = " ".join(x.strip() for x in lines[i : i + 3] if not x.strip().startswith("DESIRED"))
        elif stripped.startswith("DESIRED:"):
            desired = " ".join(x.strip() for x in lines[i : i + 3])
        elif stripped.startswith("[") and "(ACTUAL)" in stripped:
            index.append(stripped)
        elif stripped.startswith(("Mismatched elements", "(shapes")):
            facts.append(stripped.strip("()"))
        elif (
            stripped
            and not NUMPY_HEADER.match(stripped)
            and not NUMPY_NOISE.match(stripped)
            and actual is None
        ):
            hint.append(stripped)
    out = [_short(" ".join(hint))] if hint else []
    if index:
        where, values = index[0].split(":", 1)
        got, expected = (
            v.replace("(ACTUAL)", "").replace("(DESIRED)", "").strip() for v in values.split(", ", 1)
        )
        out.append(_short(f"first wrong value at {where}: got {got}, expected {expected}"))
    elif facts:
        out.append(_short("; ".join(facts)))
    if actual and desired and not index:
        out += [
            _short("got " + actual.removeprefix("ACTUAL:").strip()),
            _short("expected " + desired.removeprefix("DESIRED:").strip()),
        ]
    return out


def explain_failure(exc: BaseException) -> list[str]:
    """At most a few short lines that say what went wrong, for a student.

    Args:
        exc: the exception a check raised (a failed assert, or an error of the student's code).

    Returns:
        Lines without TensorFlow internals; empty when the exception says nothing.
    """
    text = str(exc).strip()
    if not text:
        return [type(exc).__name__] if not isinstance(exc, AssertionError) else []
    lines = text.splitlines()
    if NUMPY_HEADER.match(lines[0].strip()):
        return _numpy_lines(lines[1:])[:MAX_LINES]
    first = TF_INTERNALS.sub("", lines[0])
    op = TF_OP.search(first)
    if op:
        first = TF_OP.sub("", first) + f" (in TensorFlow's {op['op']})"
    prefix = "" if isinstance(exc, AssertionError) else f"{type(exc).__name__}: "
    hints = [hint for message, hint in TORCH_HINTS.items() if message in first]
    if hints:  # what it means first, then PyTorch's own words
        return [_short(prefix + hints[0]), _short(first)]
    return [_short(prefix + first)] + [_short(line) for line in lines[1:MAX_LINES] if line.strip()][
        : MAX_LINES - 1
    ]
