"""Test strength: mutants of each reference solution against the exercise's tests.

- ``mutation``: the mutants of a solution cell (operators on expressions, library shortcuts);
- ``student_mistakes``: mutants of a stated requirement (aggregation, tie order, clamps, NaN, seeds);
- ``runner``: runs them in one kernel per assignment, as nbgrader grades;
- ``kernel``: that kernel, and what it reports of each cell;
- ``report``: text, HTML, JSON and the README's table.
"""
