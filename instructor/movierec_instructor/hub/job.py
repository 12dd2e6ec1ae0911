"""Grading one hand-in, in a process of its own: ``python -m movierec_instructor.hub.job``.

The job grades the submission in a private copy of the course (as each worker of
``movierec autograde`` does) with :func:`~movierec_instructor.grading.autograde.autograde`
itself, so every guarantee of batch grading holds: the submission's checks and repairs,
the sandbox and its limits, the kernel probe (a machine fault is *not graded*, with the
reason, and nothing is written), deadlines and extensions. Then, holding the course's
lock, it merges the one result into the course gradebook, puts the student's folders
under ``submitted/``, ``autograded/`` and ``feedback/`` as batch grading would, and
releases the feedback to the exchange (:mod:`movierec_instructor.hub.release`).

It writes ``result.json`` in its folder when done; ``published`` in it means the course
and the exchange have the result (a restarted service then does not grade it again).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import sys
from pathlib import Path

from movierec_instructor.grading.autograde import COURSE_FILES, autograde
from movierec_instructor.grading.nbgrader_runner import gradebook_url
from movierec_instructor.grading.results import feedback
from movierec_instructor.grading.submissions import NOT_GRADED
from movierec_instructor.hub.release import publish, registered_gradebook, release_not_graded
from movierec_instructor.hub.warm_pool import WARM_ENV

WARM_STEP = "movierec_instructor.hub.warm_pool.WarmExecute"
RESULT = "result.json"


def private_course(course: Path, copy: Path, assignment: str, student: str, handed_in: Path) -> Path:
    """A course folder with just this assignment and this student's hand-in (copied as handed in)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(course / "solutions" / assignment, copy / "solutions" / assignment)
    shutil.copytree(course / "notebooks" / assignment, copy / "notebooks" / assignment)
    for name in COURSE_FILES:
        if (course / name).exists():
            shutil.copy(course / name, copy / name)
    shutil.copytree(handed_in, copy / "submitted" / student / assignment, symlinks=True)
    return copy


def grade(args: argparse.Namespace) -> dict:
    """Grades, merges and releases one hand-in; the result that goes into ``result.json``."""
    course, folder = args.course.resolve(), args.job.resolve()
    copy = private_course(course, folder / "course", args.assignment, args.student, args.submission)
    if args.gradebooks is not None:  # the assignment registered once, not by nbgrader in every job
        registered = registered_gradebook(course, args.assignment, args.gradebooks.resolve())
        shutil.copy(registered, copy / "gradebook.db")
    # A warm kernel of this machine answered moments ago: it stands for the probe of a cold one.
    warm = bool(os.environ.get(WARM_ENV))
    findings = autograde(
        copy,
        args.assignment,
        only=[args.student],
        sandbox=args.sandbox,
        execute=WARM_STEP,
        probe=not warm,
        registered=args.gradebooks is not None,
    )
    lines = [[f.problem, f.action] for f in findings if f.student == args.student]
    not_graded = [f for f in findings if f.action.startswith(NOT_GRADED)]
    if not_graded:
        release_not_graded(args.submission, args.feedback_dir, not_graded[0].problem, copy, args.assignment)
        return {"state": "not_graded", "reason": not_graded[0].problem, "findings": lines}
    feedback(copy, args.assignment)
    score = publish(
        course, copy, args.student, args.assignment, args.submission, args.feedback_dir, gradebook_url(copy)
    )
    return {"state": "graded", "score": score, "findings": lines, "published": True}


def parser() -> argparse.ArgumentParser:
    """The job's command line (the service writes it)."""
    p = argparse.ArgumentParser(prog="movierec_instructor.hub.job")
    p.add_argument("--course", type=Path, required=True)
    p.add_argument("--job", type=Path, required=True, help="the job's own folder")
    p.add_argument("--submission", type=Path, required=True, help="the hand-in in the exchange's inbound")
    p.add_argument("--feedback-dir", type=Path, required=True, help="the exchange's feedback folder")
    p.add_argument("--student", required=True)
    p.add_argument("--assignment", required=True)
    p.add_argument("--no-sandbox", dest="sandbox", action="store_false")
    p.add_argument(
        "--gradebooks", type=Path, default=None, help="cache of the assignment's registration (the service's)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Runs one job; exit status 0 when it wrote a result (graded or not graded)."""
    try:  # a job dies with its service; the restarted service grades it again
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (AttributeError, OSError):
        pass
    args = parser().parse_args(argv)
    args.job.mkdir(parents=True, exist_ok=True)
    result = grade(args)
    (args.job / f"{RESULT}.tmp").write_text(json.dumps(result))
    (args.job / f"{RESULT}.tmp").replace(args.job / RESULT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
