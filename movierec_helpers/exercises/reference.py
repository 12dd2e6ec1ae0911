"""Marking library functions that are reference solutions of graded exercises.

Later notebooks reuse earlier exercises from the library (as d2l does), but a graded
exercise must be the student's own work. Test cells run the student's function inside
:func:`forbid_reference_solutions` naming the exercise's functions; calling the library
function of the same name while it is active raises :class:`ReferenceSolutionUsed`, so
wrapping the library's answer fails the test, while other library helpers stay usable.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

F = TypeVar("F", bound=Callable)
_forbidden: list[frozenset[str]] = []


class ReferenceSolutionUsed(RuntimeError):
    """Raised when graded code calls the library's reference solution of the exercise."""


def reference_solution(fn: F) -> F:
    """Decorates a library function that solves a graded exercise."""

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        if any(fn.__name__ in names for names in _forbidden):
            raise ReferenceSolutionUsed(
                f"Your code called movierec_helpers' {fn.__name__}, the library's own answer "
                "to this exercise. Write the computation yourself with TensorFlow/NumPy."
            )
        return fn(*args, **kwargs)

    guarded.__movierec_reference__ = True
    return guarded  # type: ignore[return-value]


@contextlib.contextmanager
def forbid_reference_solutions(*names: str) -> Iterator[None]:
    """While active, the :func:`reference_solution` functions with these names raise."""
    _forbidden.append(frozenset(names))
    try:
        yield
    finally:
        _forbidden.pop()
