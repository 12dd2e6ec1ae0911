"""movierec_instructor: the instructor's side of the movierec course.

Grading a class with nbgrader (``movierec`` command line), submission checks, the grading
kernel and its sandbox, and course maintenance (execute solutions, generate the release).
Students never need it; ``make setup`` installs it for instructors and maintainers.
"""
