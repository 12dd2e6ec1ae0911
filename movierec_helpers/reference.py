"""Marking library functions that are reference solutions of graded exercises.

Later notebooks reuse earlier exercises from the library (as d2l does), but a graded
exercise must be the student's own work. Test cells run the student's function inside
:func:`forbid_reference_solutions`; a reference function called while it is active
raises :class:`ReferenceSolutionUsed`, so wrapping the library's answer fails the test.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

F = TypeVar("F", bound=Callable)
_forbidden_depth = 0


class ReferenceSolutionUsed(RuntimeError):
    """Raised when graded code calls the library's reference solution of the exercise."""


def reference_solution(fn: F) -> F:
    """Decorates a library function that solves a graded exercise."""

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        if _forbidden_depth:
            raise ReferenceSolutionUsed(
                f"Your code called movierec_helpers' {fn.__name__}, the library's own answer "
                "to this exercise. Write the computation yourself with TensorFlow/NumPy."
            )
        return fn(*args, **kwargs)

    guarded.__movierec_reference__ = True
    return guarded  # type: ignore[return-value]


@contextlib.contextmanager
def forbid_reference_solutions() -> Iterator[None]:
    """While active, every :func:`reference_solution` function raises when called."""
    global _forbidden_depth
    _forbidden_depth += 1
    try:
        yield
    finally:
        _forbidden_depth -= 1
