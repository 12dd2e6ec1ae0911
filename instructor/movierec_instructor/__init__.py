"""movierec_instructor: the instructor's side of the movierec course, in rooms by job.

Students never need it; ``make setup`` installs it for instructors and maintainers.

- ``cli``: the ``movierec`` command, one small function per sub-command;
- ``course``: tracks and assignments, executing solutions, the release, the hand-out;
- ``grading``: one class run for every backend (the local worker pool, a Dask cluster),
  submissions, deadlines, the report and feedback;
- ``lms``: one registry of LMS presets, read by collect and export;
- ``integrity``: the sandboxed grading kernel, untrusted input made safe, tampering and similarity;
- ``strength``: mutation testing of every exercise's tests;
- ``stats``: what grading says about each check;
- ``hub``: grading on a JupyterHub, hand-in by hand-in (``movierec grade-service``).
"""
