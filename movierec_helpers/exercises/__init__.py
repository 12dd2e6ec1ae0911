"""For the exercises' test cells: own-work checks, recorded results, the reference guard.

These run inside a student's notebook (visible and hidden tests); grading a whole class
is the instructor's package, ``movierec_instructor``.

- :mod:`~movierec_helpers.exercises.checks`: ``PartialCredit``, ``own_work``, ``record_metrics``;
- :mod:`~movierec_helpers.exercises.explain`: a failed check in plain lines;
- :mod:`~movierec_helpers.exercises.graded`: which function answers which exercise;
- :mod:`~movierec_helpers.exercises.reference`: library answers declared per exercise, and the guard;
- :mod:`~movierec_helpers.exercises.selfcheck`: the check before handing in (``make check``).
"""

from movierec_helpers.exercises.checks import (
    ExerciseNotDone,
    PartialCredit,
    is_grading,
    own_work,
    record_metrics,
    results_of,
)
from movierec_helpers.exercises.reference import ReferenceSolutionUsed, library_answers, reference_solution

__all__ = [
    "ExerciseNotDone",
    "PartialCredit",
    "ReferenceSolutionUsed",
    "is_grading",
    "library_answers",
    "own_work",
    "record_metrics",
    "reference_solution",
    "results_of",
]
