"""Grading hand-ins, in a process of their own: ``python -m movierec_instructor.hub.job``.

A job grades one hand-in, or several of one assignment by different students when they wait
together (the service's ``--batch``), one after another, each in a private copy of the course
(as each worker of ``movierec autograde`` does) with
:func:`~movierec_instructor.grading.autograde.autograde` itself, so every guarantee of batch
grading holds: the submission's checks and repairs, the sandbox and its limits, the kernel probe
(a machine fault is *not graded*, with the reason, and nothing is written), deadlines and
extensions. Then, holding the course's lock, it merges the result into the course gradebook,
puts the student's folders under ``submitted/``, ``autograded/`` and ``feedback/`` as batch
grading would, and releases the feedback to the exchange
(:mod:`movierec_instructor.hub.release`) before it grades the next student.

nbgrader is imported once per job (or once per worker, :mod:`movierec_instructor.hub.worker`)
and each of its commands runs in a fork (:func:`~movierec_instructor.grading.nbgrader_runner.preload`).

It writes each hand-in's ``result.json`` where the service said as soon as it is published;
``published`` in it means the course and the exchange have the result (a restarted service then
does not grade it again). One student's notebook fails only that student (as in batch grading).
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
from movierec_instructor.grading.nbgrader_runner import gradebook_url, preload
from movierec_instructor.grading.results import feedback
from movierec_instructor.grading.submissions import NOT_GRADED
from movierec_instructor.hub.release import publish, registered_gradebook, release_not_graded
from movierec_instructor.hub.warm_pool import WARM_ENV

WARM_STEP = "movierec_instructor.hub.warm_pool.WarmExecute"
RESULT = "result.json"


def private_course(course: Path, copy: Path, assignment: str, hand_ins: dict[str, Path]) -> Path:
    """A course folder with just this assignment and these students' hand-ins (copied as handed in)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(course / "solutions" / assignment, copy / "solutions" / assignment)
    shutil.copytree(course / "notebooks" / assignment, copy / "notebooks" / assignment)
    for name in COURSE_FILES:
        if (course / name).exists():
            shutil.copy(course / name, copy / name)
    for student, handed_in in hand_ins.items():
        shutil.copytree(handed_in, copy / "submitted" / student / assignment, symlinks=True)
    return copy


def hand_ins_of(args: argparse.Namespace) -> dict[str, tuple[Path, Path]]:
    """student -> (hand-in folder, where its result goes), from ``--hand-in``."""
    found = {student: (Path(folder), Path(result)) for student, folder, result in args.hand_in}
    if len(found) != len(args.hand_in):
        raise SystemExit("a job grades one hand-in per student; the same student was given twice")
    return found


def write_result(target: Path, result: dict) -> None:
    """Writes a hand-in's ``result.json`` whole (a restarted service never reads half of one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_suffix(".tmp").write_text(json.dumps(result))
    target.with_suffix(".tmp").replace(target)


def grade_one(args: argparse.Namespace, student: str, handed_in: Path, target: Path, probe: bool) -> dict:
    """Grades one hand-in in its own private course, publishes it, writes its result; returns it."""
    course = args.course.resolve()
    # Under courses/: a student id is never a name the job's own files use (job.log, result.json).
    copy = private_course(
        course, args.job.resolve() / "courses" / student, args.assignment, {student: handed_in}
    )
    if args.gradebooks is not None:  # the assignment registered once, not by nbgrader in every job
        registered = registered_gradebook(course, args.assignment, args.gradebooks.resolve())
        shutil.copy(registered, copy / "gradebook.db")
    findings = autograde(
        copy,
        args.assignment,
        only=[student],
        sandbox=args.sandbox,
        execute=WARM_STEP,
        probe=probe,
        registered=args.gradebooks is not None,
    )
    lines = [[f.problem, f.action] for f in findings if f.student == student]
    fault = [f for f in findings if f.student == student and f.action.startswith(NOT_GRADED)]
    if fault:
        release_not_graded(handed_in, args.feedback_dir, fault[0].problem, copy, args.assignment)
        result = {"state": "not_graded", "reason": fault[0].problem, "findings": lines}
    else:
        feedback(copy, args.assignment, student=student)
        score = publish(
            course, copy, student, args.assignment, handed_in, args.feedback_dir, gradebook_url(copy)
        )
        result = {"state": "graded", "findings": lines, "score": score, "published": True}
    write_result(target, result)
    return result


def grade(args: argparse.Namespace) -> dict[str, dict]:
    """Grades, merges and releases the hand-ins one after another, each published as soon as graded.

    Returns:
        student -> the result written to its ``result.json``.
    """
    # A kernel of this machine answered moments ago (a warm one, or the last student's): it
    # stands for the probe of a cold one.
    probe = not os.environ.get(WARM_ENV)
    results = {}
    for student, (handed_in, target) in hand_ins_of(args).items():
        results[student] = grade_one(args, student, handed_in, target, probe)
        probe = False
    return results


def parser() -> argparse.ArgumentParser:
    """The job's command line (the service writes it)."""
    p = argparse.ArgumentParser(prog="movierec_instructor.hub.job")
    p.add_argument("--course", type=Path, required=True)
    p.add_argument("--job", type=Path, required=True, help="the job's own folder")
    p.add_argument(
        "--hand-in",
        nargs=3,
        action="append",
        required=True,
        metavar=("STUDENT", "FOLDER", "RESULT"),
        help="a student's hand-in in the exchange's inbound, and the file its result goes to (repeatable)",
    )
    p.add_argument("--feedback-dir", type=Path, required=True, help="the exchange's feedback folder")
    p.add_argument("--assignment", required=True)
    p.add_argument("--no-sandbox", dest="sandbox", action="store_false")
    p.add_argument(
        "--gradebooks", type=Path, default=None, help="cache of the assignment's registration (the service's)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Runs one job; exit status 0 when it wrote every result (graded or not graded)."""
    try:  # a job dies with its service; the restarted service grades it again
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except (AttributeError, OSError):
        pass
    preload()
    args = parser().parse_args(argv)
    args.job.mkdir(parents=True, exist_ok=True)
    grade(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
