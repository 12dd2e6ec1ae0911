"""Test strength: mutants of each reference solution against the exercise's tests.

- ``mutant``: what a mutant is (one change between a solution cell's markers);
- ``mutation``: the mutants of a solution cell (operators on expressions, and all of them together);
- ``shortcuts``: solutions replaced by a call of the library's own answer (of the notebook's track);
- ``student_mistakes``: mutants of a stated requirement (aggregation, tie order, clamps, NaN, seeds);
- ``runner``: runs them in one kernel per assignment, as nbgrader grades;
- ``kernel``: that kernel, and what it reports of each cell;
- ``report``: text, HTML (an accessible page), JSON and the README's table.
"""
