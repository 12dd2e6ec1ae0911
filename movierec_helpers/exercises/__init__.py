"""For the exercises' test cells: own-work checks, recorded results, the reference guard.

These run inside a student's notebook (visible and hidden tests); grading a whole class
is the instructor's package, ``movierec_instructor``.
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

__all__ = ["ExerciseNotDone", "PartialCredit", "ReferenceSolutionUsed", "is_grading", "library_answers", "own_work", "record_metrics", "reference_solution", "results_of"]
