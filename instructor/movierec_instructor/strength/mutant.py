"""What a mutant is: one small change to the code between a solution cell's solution markers."""

from __future__ import annotations

from dataclasses import dataclass

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


@dataclass(frozen=True)
class Mutant:
    """One mutant of an exercise's solution cell.

    Attributes:
        exercise: the solution cell's ``grade_id``.
        operator: the mutation operator's name.
        original: the code it replaces (one expression, or the solution's body).
        mutated: the code put in its place.
        line: line of the change in the cell (1-based).
        context: that line of the original cell, stripped.
        source: the whole mutated cell.
        cell: the original cell.
        occurrence: 2, 3, ... for the same change at the same line again.
    """

    exercise: str
    operator: str
    original: str
    mutated: str
    line: int
    context: str
    source: str
    cell: str
    occurrence: int = 1

    @property
    def key(self) -> str:
        """Identifies the mutant across runs and across edits elsewhere in the cell."""
        where = "" if self.original.startswith(self.context) else f" in `{self.context}`"
        again = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.operator}: {self.original} -> {self.mutated}{where}{again}"


def solution_region(source: str) -> tuple[int, int]:
    """First and last line (1-based) strictly between the solution markers.

    Raises:
        ValueError: the cell has no ``### BEGIN SOLUTION`` / ``### END SOLUTION`` pair.
    """
    lines = source.split("\n")
    begins = [i for i, line in enumerate(lines, 1) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines, 1) if line.strip() == END]
    if not begins or not ends or ends[0] < begins[0]:
        raise ValueError("The solution cell has no ### BEGIN SOLUTION / ### END SOLUTION pair.")
    return begins[0] + 1, ends[0] - 1
