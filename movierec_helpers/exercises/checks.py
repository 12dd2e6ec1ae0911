"""Helpers used by the notebooks' test cells and result cells."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from movierec_helpers.exercises.explain import explain_failure
from movierec_helpers.exercises.graded import exercise_of
from movierec_helpers.exercises.reference import forbid_exercises

RESULTS_ENV = "MOVIEREC_RESULTS_DIR"


class ExerciseNotDone(NotImplementedError):
    """An exercise's function still raises ``NotImplementedError``.

    IPython shows it as one line (``_render_traceback_``) instead of a long traceback
    through TensorFlow's generated code.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"ExerciseNotDone: {self}"]


def _innermost_function(exc: BaseException) -> str:
    name, tb = "an exercise", exc.__traceback__
    while tb is not None:
        name, tb = tb.tb_frame.f_code.co_name, tb.tb_next
    return name.removeprefix("tf__")


def explains_unfinished_exercises(function: Callable) -> Callable:
    """Turns a ``NotImplementedError`` from a student's unfinished function into one plain line."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ExerciseNotDone:
            raise
        except NotImplementedError as exc:
            raise ExerciseNotDone(
                f"{_innermost_function(exc)} is not written yet: replace `raise NotImplementedError()` "
                "in its cell with your code, run that cell, then run this one again."
            ) from None

    return wrapper


@contextlib.contextmanager
def own_work(*functions: Callable) -> Iterator[None]:
    """Checks that graded functions are the student's, and forbids library answers inside.

    Inside the block, every library function or method declared as an answer of the
    functions' exercises raises
    :class:`~movierec_helpers.exercises.reference.ReferenceSolutionUsed` when called, under
    whatever name it was imported.

    Args:
        *functions: the student's graded functions.

    Raises:
        AssertionError: a graded function *is* a library answer.
    """
    for fn in functions:
        assert callable(fn), f"{fn!r} is not a function: define it in the cell above."
        assert not getattr(fn, "__movierec_reference__", False), (
            f"{fn.__name__} is movierec_helpers' own answer; write the function yourself."
        )
    with forbid_exercises(*(exercise_of(fn.__name__) for fn in functions)):
        yield


class WarningRaised(AssertionError):
    """The student's code raised a warning inside a check."""

    def __init__(self, caught: warnings.WarningMessage) -> None:
        message = " ".join(str(caught.message).split())
        super().__init__(
            f"your code raised {caught.category.__name__}: {message}; a graded check must run "
            "without warnings (avoid the operation that causes it)"
        )


class PartialCredit:
    """Awards a test cell's points in parts, with one plain-words line per check.

    nbgrader takes a number that a test cell shows as its result as the cell's score, so
    a cell ends with ``checks.score``. Any failure inside a check (a failed assert, an
    error of the student's code) costs that check only; a hidden check says only that it
    failed. Example::

        checks = PartialCredit()
        with checks.check(1, "returns one score per item"):
            assert np.shape(compute_scores(u, V)) == (3,)
        checks.score

    ``first_failure_ends_cell`` (off by default) makes the first failed check raise, so the
    rest of the cell does not run: instructors' test-strength runs only need to know
    whether any check fails.
    """

    first_failure_ends_cell = False

    def __init__(self, points: float | None = None) -> None:
        """
        Args:
            points: the test cell's points (its nbgrader metadata); in a student's copy,
                where hidden checks are left out, the score line says how many of them
                grading adds.
        """
        self.points = points
        self.earned = 0.0
        self.possible = 0.0
        self.failed: list[str] = []

    @contextlib.contextmanager
    def check(self, points: float, what: str, *, hidden: bool = False) -> Iterator[None]:
        """One check worth ``points``: passes when its block finishes without an error."""
        self.possible += points
        # A hidden check names its requirement (never its inputs) in the graded notebook and the
        # feedback; a student's own copy has no hidden checks at all.
        label = (f"a hidden check: {what}" if is_grading() else "a hidden check") if hidden else what
        try:
            # A warning would reach stderr, and nbgrader gives a test cell that writes to stderr 0:
            # it fails this check only, and says so (e.g. NumPy's "invalid value encountered in divide").
            with warnings.catch_warnings(record=True) as caught:
                yield
            if caught:
                raise WarningRaised(caught[0])
        except Exception as exc:  # noqa: BLE001 - any failure of the student's code fails this check
            detail = [] if hidden else explain_failure(exc)
            if isinstance(exc, NameError) and self.failed and not hidden:
                # A name the failed check above should have made: one mistake, reported once.
                name = exc.name or next(iter(re.findall(r"'(\w+)'", str(exc))), "a name")
                detail = [
                    f"not checked: it needs `{name}`, which the failed check "
                    f'"{self.failed[-1]}" makes; fix that one first'
                ]
            self.failed.append(what)
            print(f"✗ {label} (0 of {points:g}){': ' + detail[0] if detail else ''}")
            for line in detail[1:]:
                print(f"    {line}")
            if self.first_failure_ends_cell:
                raise
        else:
            self.earned += points
            print(f"✓ {label} ({points:g} of {points:g})")

    @property
    def score(self) -> float:
        """The points earned so far (the cell's score when it is the cell's last line).

        Where the checks are worth less than the cell (hidden checks left out of a
        student's copy), it first prints what is left, e.g. ``1 of 1 point here; 1 more
        from hidden checks when graded``.
        """
        if self.points is not None and self.possible < self.points:
            pending = self.points - self.possible
            print(
                f"{self.earned:g} of {self.possible:g} point{'s' if self.possible != 1 else ''} here; "
                f"{pending:g} more from hidden checks when graded"
            )
        return self.earned


def results_of(table, column: str, rows: Mapping[str, str]) -> dict[str, float]:
    """Values of ``column`` in the rows of a results table, by metric name.

    Args:
        table: a DataFrame with one row per model.
        column: the column to read, e.g. ``"test RMSE"``.
        rows: metric name -> row label.

    Returns:
        Metric name -> value.

    Raises:
        ExerciseNotDone: a row is missing (its exercise is not done or its cell has not
            run), named in one line instead of a pandas ``KeyError`` traceback.
    """
    missing = [row for row in rows.values() if row not in table.index]
    if missing:
        raise ExerciseNotDone(
            f"No {column} yet for {', '.join(missing)}: finish the exercises above and run their cells, "
            "then run this one again."
        )
    return {name: float(table.loc[row, column]) for name, row in rows.items()}


def record_metrics(name: str, **metrics: float) -> None:
    """Prints a notebook's key results (rounded) and saves them for the test suite.

    Results go to ``$MOVIEREC_RESULTS_DIR/<name>.json`` when that variable is set.
    """
    rounded = {key: round(float(value), 4) for key, value in metrics.items()}
    print(f"recorded {name}: {json.dumps(rounded)}")
    folder = os.environ.get(RESULTS_ENV)
    if folder:
        path = Path(folder) / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**existing, **rounded}, indent=1))


def is_grading() -> bool:
    """True while nbgrader executes the notebook (it sets ``NBGRADER_EXECUTION``)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))
