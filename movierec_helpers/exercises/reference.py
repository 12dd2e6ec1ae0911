"""Library functions that answer graded exercises, and the guard that keeps them out of grading.

Later notebooks reuse earlier exercises from the library (as d2l does), but a graded
exercise must be the student's own work. Each library function or method that computes an
exercise's answer declares the exercises it answers, keyed by the exercise (the nbgrader
``grade_id`` of its solution cell), not by its own name::

    @reference_solution("mse_dense", "mse_gather")
    def sparse_mean_square_error(...): ...

Test cells run the student's function inside :func:`forbid_exercises`; while it is active,
every library answer of those exercises raises :class:`ReferenceSolutionUsed`, whatever name
it was imported under, while the library's other helpers stay usable.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

F = TypeVar("F", bound=Callable)
_forbidden: list[frozenset[str]] = []
_answers: dict[str, list[Callable]] = {}


class ReferenceSolutionUsed(RuntimeError):
    """Raised when graded code calls a library answer of the exercise being graded."""


def reference_solution(*exercises: str) -> Callable[[F], F]:
    """Declares a library function or method as the answer of ``exercises``.

    Args:
        *exercises: ``grade_id`` of each exercise (solution cell) the function answers.

    Returns:
        A decorator; the decorated function raises :class:`ReferenceSolutionUsed` while
        one of its exercises is forbidden.

    Raises:
        TypeError: no exercise named (``@reference_solution`` used without arguments).
    """
    if not exercises or not all(isinstance(e, str) for e in exercises):
        raise TypeError(
            'Name the exercises a reference solution answers: @reference_solution("grade_id", ...).'
        )
    answers = frozenset(exercises)

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            if any(answers & names for names in _forbidden):
                raise ReferenceSolutionUsed(
                    f"Your code called movierec_helpers' {fn.__qualname__}, the library's own answer "
                    "to this exercise. Write the computation yourself (TensorFlow, PyTorch or NumPy)."
                )
            return fn(*args, **kwargs)

        guarded.__movierec_reference__ = tuple(exercises)
        for exercise in exercises:
            _answers.setdefault(exercise, []).append(guarded)
        return guarded  # type: ignore[return-value]

    return decorate


def library_answers(exercise: str) -> list[Callable]:
    """The library functions and methods declared as answers of ``exercise`` (imported modules only)."""
    return list(_answers.get(exercise, []))


@contextlib.contextmanager
def forbid_exercises(*exercises: str) -> Iterator[None]:
    """While active, every library answer of these exercises raises :class:`ReferenceSolutionUsed`."""
    _forbidden.append(frozenset(exercises))
    try:
        yield
    finally:
        _forbidden.pop()
