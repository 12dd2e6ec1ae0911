"""Test strength: how many mutants of each reference solution the exercise's tests kill.

For every graded solution cell ``X`` with a test cell ``X_tests``, the notebook runs once in
one kernel, as nbgrader grades it (``NBGRADER_EXECUTION`` set). On reaching ``X_tests``,
each mutant of ``X`` (:mod:`movierec_instructor.strength.mutation`) replaces the solution, the
cells between run again, and ``X_tests`` (visible and hidden tests) runs against it. A
mutant is *killed* when the test cell gives less than full points, raises, writes to stderr
(nbgrader gives such a cell 0), runs past its time limit or crashes the kernel; otherwise it
*survives*. Then the original solution is put back and the notebook goes on.

Mutants that no test can kill (they compute the same answer) are listed, each with its
reason, in ``solutions/equivalent_mutants.toml``; they do not count in the score.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from movierec_helpers.exercises.reference import library_answers
from movierec_instructor.course import notebook_path, track_of
from movierec_instructor.integrity.similarity import import_library
from movierec_instructor.strength.kernel import CellRun, StrengthKernel
from movierec_instructor.strength.mutant import Mutant
from movierec_instructor.strength.mutation import all_mutants
from movierec_instructor.strength.shortcuts import answers_of_track

EQUIVALENTS = Path("solutions") / "equivalent_mutants.toml"


@dataclass
class MutantResult:
    """One mutant against its exercise's tests."""

    mutant: Mutant
    killed: bool
    reason: str
    seconds: float
    equivalent: str = ""  # the reviewed reason, for a listed mutant that survived
    named: bool = False  # a killed mutant whose printed feedback names the failed requirement
    feedback: str = ""  # what the student would read: the test cell's ✗ lines, or the error
    visible: bool = False  # killed by what the student's own check shows (a visible ✗, an error, stderr)
    hard_coding: str = ""  # the reviewed reason, for a mutant only hidden checks may kill


@dataclass
class ExerciseStrength:
    """The mutants of one graded exercise and what became of them."""

    assignment: str
    exercise: str
    points: float
    results: list[MutantResult] = field(default_factory=list)
    stale_equivalents: list[str] = field(default_factory=list)

    @property
    def killed(self) -> int:
        return sum(r.killed for r in self.results)

    @property
    def equivalent(self) -> int:
        return sum(bool(r.equivalent) for r in self.results)

    @property
    def survived(self) -> int:
        return len(self.results) - self.killed - self.equivalent

    @property
    def killed_visibly(self) -> int:
        return sum(r.killed and r.visible for r in self.results)

    @property
    def hidden_only(self) -> int:
        """Killed only by hidden checks, not listed as hard-coding: ``make check`` said "ready", grading
        disagreed."""
        return sum(r.killed and not r.visible and not r.hard_coding for r in self.results)

    @property
    def named_share(self) -> float:
        """Of the killed mutants, the share whose feedback names the failed requirement."""
        killed = [r for r in self.results if r.killed]
        return sum(r.named for r in killed) / len(killed) if killed else 1.0

    @property
    def score(self) -> float:
        """Killed / (mutants - equivalent); 1.0 when there is nothing to kill."""
        counted = len(self.results) - self.equivalent
        return self.killed / counted if counted else 1.0


def load_equivalents(course: Path, table: str = "mutant") -> dict[tuple[str, str], str]:
    """``(exercise, mutant key) -> reason`` of the reviewed mutants of a course.

    ``table="mutant"``: equivalent mutants (no test can kill them); ``table="hard_coding"``:
    mutants that answer the visible examples and nothing else, which only hidden checks kill.
    """
    path = Path(course) / EQUIVALENTS
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get(table, [])
    return {(e["exercise"], e["key"]): e["reason"] for e in entries}


def killed_visibly(run: CellRun, raised: str) -> bool:
    """Whether the student's own check would show this failure.

    A visible check's ✗, an earlier cell's error, stderr, a stop, or an error of the test cell
    outside any check. An error after a hidden check's ✗ is the runner's fail-fast, not the
    student's: hidden checks come last, so then every visible check had passed.
    """
    crosses = [line for line in run.stdout.splitlines() if line.startswith("✗ ")]
    visible_cross = any(not line.startswith("✗ a hidden check") for line in crosses)
    outside_checks = bool(run.error) and not crosses
    return visible_cross or outside_checks or bool(raised or run.stderr or run.timed_out or run.kernel_died)


def _graded_pairs(nb: nbformat.NotebookNode) -> dict[int, tuple[int, str, float]]:
    """``test cell index -> (solution cell index, exercise, points)`` of the notebook."""
    solutions = {}
    pairs = {}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution") and not meta.get("grade"):
            solutions[meta["grade_id"]] = i
        elif meta.get("grade") and meta.get("grade_id", "").endswith("_tests"):
            exercise = meta["grade_id"].removesuffix("_tests")
            if exercise in solutions:
                pairs[i] = (solutions[exercise], exercise, float(meta["points"]))
    return pairs


def names_requirement(run: CellRun) -> bool:
    """Whether a failed test cell named the requirement that failed.

    A visible check's ✗ line names it; so does a hidden one's in a graded notebook
    (``✗ a hidden check: <requirement>``). A bare ``✗ a hidden check``, an error or
    stderr alone do not.
    """
    return any(
        line.startswith("✗ ") and not line.startswith("✗ a hidden check (")
        for line in run.stdout.splitlines()
    )


def feedback_lines(run: CellRun, limit: int = 3) -> str:
    """The first lines a student would read about a failure: ✗ lines, else the error or stderr."""
    crosses = [line for line in run.stdout.splitlines() if line.startswith("✗ ")]
    if crosses:
        return "\n".join(crosses[:limit])
    text = run.error or run.stderr
    return "\n".join(text.strip().splitlines()[-limit:]) if text else ""


def _verdict(run: CellRun, points: float) -> tuple[bool, str]:
    if run.timed_out:
        return True, "time limit"
    if run.kernel_died:
        return True, "kernel crashed"
    if run.error:
        return True, f"error: {run.error.splitlines()[0][:160]}"
    if run.stderr:
        return True, "wrote to stderr"
    if run.score is None or run.score < points:
        return True, f"{run.score if run.score is not None else 0:g} of {points:g} points"
    return False, "full points"


def _full_points(run: CellRun, points: float, what: str) -> None:
    """Raises RuntimeError unless the test cell gave full points (else the measure means nothing)."""
    killed, reason = _verdict(run, points)
    if killed:
        raise RuntimeError(f"{what} gets {reason}.")


def _mutants(exercise: str, solution: str, track: str, keys: dict[str, set[str]] | None) -> list[Mutant]:
    """Every mutant of the exercise's solution cell, or just the ``keys`` asked for.

    Raises:
        KeyError: a key names no mutant (the solution changed since the key was written).
    """
    mutants = all_mutants(exercise, solution, answers_of_track(library_answers(exercise), track))
    if keys is None:
        return mutants
    chosen = keys.get(exercise, set())
    missing = chosen - {m.key for m in mutants}
    if missing:
        raise KeyError(f"{exercise}: no mutant {sorted(missing)[0]!r}; the solution changed?")
    return [m for m in mutants if m.key in chosen]


def _run_mutant(
    kernel: StrengthKernel, mutant: Mutant, between: list[str], tests: str, points: float, timeout: float
) -> tuple[MutantResult, bool]:
    """The mutant in place of the solution, the cells between, then the test cell, as nbgrader runs them.

    Returns the result and whether the kernel died (the caller replays the notebook).

    Every cell runs even after an error, and only the test cell's result counts (an error
    elsewhere costs nothing by itself).
    """
    start = time.perf_counter()
    run = kernel.run(mutant.source, timeout=timeout)
    raised = "" if run.ok else run.error
    for code in between if not (run.timed_out or run.kernel_died) else []:
        run = kernel.run(code, timeout=timeout)
        raised = raised or ("" if run.ok else run.error)
        if run.timed_out or run.kernel_died:
            break
    if not (run.timed_out or run.kernel_died):
        run = kernel.run(tests, timeout=timeout)
    killed, reason = _verdict(run, points)
    if killed and raised and not run.kernel_died and not run.timed_out:
        reason += f" (an earlier cell raised {raised.splitlines()[0][:80]})"
    result = MutantResult(
        mutant,
        killed,
        reason,
        time.perf_counter() - start,
        named=killed and names_requirement(run),
        feedback=feedback_lines(run) if killed else "",
        visible=killed and killed_visibly(run, raised),
    )
    return result, run.kernel_died


def _measure_exercise(
    kernel: StrengthKernel,
    nb: nbformat.NotebookNode,
    test_index: int,
    pair: tuple[int, str, float],
    assignment: str,
    track: str,
    keys: dict[str, set[str]] | None,
    reviewed: tuple[dict, dict],
    timing: tuple[float, float],
    replay: Callable[[], None],
) -> ExerciseStrength:
    """Every mutant of one exercise against its test cell; the kernel is left as the original leaves it."""
    solution_index, exercise, points = pair
    equivalents, hard_coding = reviewed
    tests = nb.cells[test_index].source
    between = [c.source for c in nb.cells[solution_index + 1 : test_index] if c.cell_type == "code"]
    strength = ExerciseStrength(assignment, exercise, points)
    mutants = _mutants(exercise, nb.cells[solution_index].source, track, keys)
    baseline = kernel.run(tests, timeout=600)
    _full_points(baseline, points, f"{assignment}: the reference solution of {exercise}")
    timeout = max(timing[1], timing[0] * baseline.seconds)
    for mutant in mutants:
        result, crashed = _run_mutant(kernel, mutant, between, tests, points, timeout)
        if crashed:
            replay()
        if not result.killed:
            result.equivalent = equivalents.get((exercise, mutant.key), "")
        elif not result.visible:
            result.hard_coding = hard_coding.get((exercise, mutant.key), "")
        strength.results.append(result)
    if keys is None:
        strength.stale_equivalents = sorted(
            set(k for (e, k) in equivalents if e == exercise) - {m.key for m in mutants}
        )
    for code in [nb.cells[solution_index].source, *between]:  # the original solution back in place
        kernel.run(code, timeout=600)
    return strength


def measure_assignment(
    course: Path,
    assignment: str,
    *,
    exercises: Iterable[str] | None = None,
    keys: dict[str, set[str]] | None = None,
    time_factor: float = 10.0,
    min_timeout: float = 30.0,
    progress: Callable[[str], None] = lambda line: None,
) -> list[ExerciseStrength]:
    """Runs every mutant of the assignment's graded exercises against their tests.

    Args:
        course: the course folder (``solutions/``).
        assignment: the assignment id.
        exercises: only these exercises (default: all graded ones).
        keys: only these mutant keys per exercise (a cheap, fixed sample).
        time_factor: a mutant's test cell may run this many times the original's time ...
        min_timeout: ... and at least this many seconds.
        progress: called with one line per exercise.

    Returns:
        One :class:`ExerciseStrength` per exercise, in notebook order.

    Raises:
        RuntimeError: a cell of the original notebook fails, or an original solution does
            not get full points (the measure would be meaningless).
        KeyError: a key in ``keys`` names no mutant of its exercise.
    """
    course = Path(course).resolve()
    path = notebook_path(course, assignment)
    nb = nbformat.read(path, as_version=4)
    pairs = _graded_pairs(nb)
    track = track_of(course, assignment)
    wanted = set(exercises) if exercises is not None else {e for _, e, _ in pairs.values()}
    reviewed = (load_equivalents(course), load_equivalents(course, "hard_coding"))
    import_library()
    env = {**os.environ, "NBGRADER_EXECUTION": "autograde", "MOVIEREC_PROGRESS": "0"}
    kernel = StrengthKernel(path.parent, env)
    found: list[ExerciseStrength] = []
    done: list[str] = []  # the code run so far, to replay after a crash

    def replay() -> None:
        kernel.restart()
        for code in done:
            kernel.run(code, timeout=600)

    try:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if i in pairs and pairs[i][1] in wanted:
                strength = _measure_exercise(
                    kernel,
                    nb,
                    i,
                    pairs[i],
                    assignment,
                    track,
                    keys,
                    reviewed,
                    (time_factor, min_timeout),
                    replay,
                )
                found.append(strength)
                progress(
                    f"{assignment} {strength.exercise}: {strength.killed}/{len(strength.results)} killed, "
                    f"{strength.equivalent} equivalent, score {strength.score:.0%}"
                )
            run = kernel.run(cell.source, timeout=600)
            if not run.ok:
                raise RuntimeError(f"{assignment}: cell {i} of the solution notebook failed: {run.error}")
            done.append(cell.source)
    finally:
        kernel.close()
    return found
