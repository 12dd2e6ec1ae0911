"""The course itself: its tracks and assignments, executing solutions, the release, the hand-out.

- ``maintenance``: tracks, assignments, executing solutions, the release, timing
  (``python -m movierec_instructor.course execute|release|time``);
- ``handout``: the student hand-out of one track, without answers not yet due.
"""

from movierec_instructor.course.maintenance import (
    KERNEL,
    SHARED,
    TRACKS,
    assignments,
    course_tracks,
    execute,
    execute_notebook,
    notebook_path,
    release,
    stderr_outputs,
    time_course,
    track_of,
    write_submission,
)

__all__ = [
    "KERNEL",
    "SHARED",
    "TRACKS",
    "assignments",
    "course_tracks",
    "execute",
    "execute_notebook",
    "notebook_path",
    "release",
    "stderr_outputs",
    "time_course",
    "track_of",
    "write_submission",
]
