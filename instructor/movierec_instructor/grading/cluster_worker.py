"""What a Dask worker runs to grade one student: the course bundle, version and sandbox checks, nbgrader.

The client (:mod:`movierec_instructor.grading.cluster`) ships bytes, never paths: the assignment's
source folder and course files as one gzipped tar (:func:`course_bundle`), and each student's
notebooks. :func:`grade_student` grades one student in a scratch course and returns the
autograded notebooks and a one-student gradebook.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.metadata
import io
import shutil
import socket
import sys
import tarfile
import tempfile
from pathlib import Path

from movierec_instructor.grading.autograde import (
    AUTOGRADE_OPTIONS,
    COURSE_FILES,
    grading_env,
    nbgrader_reason,
    runtime_folder,
)
from movierec_instructor.grading.class_run import register, set_due_date
from movierec_instructor.grading.late_policy import load
from movierec_instructor.grading.nbgrader_runner import gradebook_url, run_nbgrader
from movierec_instructor.integrity.untrusted import path_inside

PACKAGES = ("movierec", "movierec-instructor", "nbgrader", "tensorflow", "keras", "numpy", "pandas")


class WorkerCannotGrade(RuntimeError):
    """This worker's environment would grade differently (or not at all); the message says why."""


def environment() -> dict[str, str]:
    """What must match between the client and a worker: Python and the grading packages' versions."""
    found = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def course_bundle(course: Path, assignment: str) -> bytes:
    """The assignment's source folder and the course files, as a gzipped tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(course / "solutions" / assignment, arcname=f"solutions/{assignment}")
        for name in COURSE_FILES:
            if (course / name).exists():
                tar.add(course / name, arcname=name)
    return buffer.getvalue()


def bundle_bytes(bundle: bytes) -> bytes:
    """The bundle as a task's result: a task, unlike scattered data, is recomputed when its worker is lost."""
    return bundle


def _extract(bundle: bytes, folder: Path) -> None:
    """Unpacks a course bundle: plain files and folders only, every path inside ``folder``.

    (``tarfile``'s ``filter="data"`` does this from Python 3.11.4; Debian 12 has 3.11.2.)
    """
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()):
                raise WorkerCannotGrade(
                    f"the course bundle holds {member.name!r}, neither a file nor a folder"
                )
            target = path_inside(folder, *Path(member.name).parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())


_SANDBOX_CHECKED: list[bool] = []  # a worker process checks its sandbox once
_TEMPLATES: dict[str, Path] = {}  # bundle digest -> a scratch course with the assignment registered


def _prepared_course(bundle: bytes, assignment: str) -> Path:
    """Once per worker process and bundle: the course files with the assignment generated (nbgrader's
    gradebook)."""
    digest = hashlib.sha256(bundle).hexdigest()
    if digest not in _TEMPLATES:
        home = Path(tempfile.mkdtemp(prefix="movierec-template-"))
        atexit.register(shutil.rmtree, home, True)
        course = home / "course"
        course.mkdir()
        _extract(bundle, course)
        db = gradebook_url(course)
        register(course, assignment, db)
        set_due_date(db, assignment, load(course))
        _TEMPLATES[digest] = course
    return _TEMPLATES[digest]


def events_topic(assignment: str, run: str) -> str:
    """The scheduler's event topic where workers say which student they start grading in one run.

    The scheduler keeps its events for its lifetime: a topic per run keeps one run's retries
    apart from the next run's grading of the same students.
    """
    return f"movierec-grading-{assignment}-{run}"


def _announce(assignment: str, student: str, run: str) -> str:
    """Tells the scheduler this worker starts grading ``student`` (the client counts retries); its name."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not on a Dask worker
        return socket.gethostname()
    name = str(worker.name)
    worker.log_event(
        events_topic(assignment, run), {"student": student, "name": name}
    )  # the scheduler adds "worker"
    return name


def _check_worker(worker: str, client_environment: dict[str, str], sandbox: bool) -> None:
    mine = environment()
    different = {k: (v, mine.get(k)) for k, v in client_environment.items() if mine.get(k) != v}
    if different:
        shown = ", ".join(
            f"{k} {theirs} here, {ours} on the client" for k, (ours, theirs) in different.items()
        )
        raise WorkerCannotGrade(
            f"worker {worker} would grade with other versions: {shown}; "
            "install the course's constraints.txt in the workers' environment"
        )
    if sandbox and not _SANDBOX_CHECKED:
        from movierec_instructor.integrity.sandbox import SandboxUnavailable, check_available

        try:
            check_available()
        except SandboxUnavailable as exc:
            raise WorkerCannotGrade(
                f"worker {worker} cannot make the grading sandbox: {exc} "
                "(in a container without user namespaces, run one student per pod "
                "and grade with --no-sandbox)"
            ) from None
        _SANDBOX_CHECKED.append(True)


def grade_student(
    bundle: bytes,
    assignment: str,
    student: str,
    files: dict[str, bytes],
    sandbox: bool,
    client_environment: dict[str, str],
    run: str = "",
) -> dict:
    """Runs on a worker: grades one student in a scratch course and returns what grading made.

    Returns:
        ``{"student", "worker", "autograded": {name: bytes}, "gradebook": bytes, "reason"}``;
        ``autograded`` is empty when nbgrader could not grade the submission (``reason`` says why).

    Raises:
        WorkerCannotGrade: other package versions than the client's, or no sandbox here.
    """
    worker = _announce(assignment, student, run)
    _check_worker(worker, client_environment, sandbox)
    template = _prepared_course(bundle, assignment)
    with tempfile.TemporaryDirectory(prefix="movierec-task-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(template, course)  # the registered assignment and its gradebook, fresh per student
        for name, data in files.items():
            target = path_inside(course / "submitted", student, assignment, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        db = gradebook_url(course)
        env = grading_env(sandbox, str(runtime_folder(Path(tmp))))
        done = run_nbgrader(
            course, "autograde", assignment, *AUTOGRADE_OPTIONS, f"--student={student}", db=db, env=env
        )
        graded = course / "autograded" / student / assignment
        autograded = (
            {p.name: p.read_bytes() for p in graded.glob("*") if p.is_file()} if graded.is_dir() else {}
        )
        return {
            "student": student,
            "worker": worker,
            "autograded": autograded,
            "gradebook": (course / "gradebook.db").read_bytes(),
            "reason": "" if autograded else nbgrader_reason(done),
        }
