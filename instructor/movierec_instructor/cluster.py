"""Grading a class on a Dask cluster: one task per student, no shared filesystem.

``movierec autograde ASSIGNMENT --scheduler ADDRESS`` sends every student's submission to an
existing Dask cluster (``dask scheduler`` and ``dask worker`` on any machines, Slurm through
dask-jobqueue, Kubernetes, Dask Gateway) or, with ``--scheduler local:N``, to N local
worker processes. Each task carries what grading needs as bytes: the assignment's source
notebook, ``nbgrader_config.py`` and the deadline files (one bundle, shipped to each worker
once), and the student's notebooks. The worker checks that it can grade as the client would
(the same package versions, a working sandbox unless ``--no-sandbox``), grades in a scratch
course of its own with the same nbgrader steps as ``--jobs``, and returns the autograded
notebooks and its one-student gradebook. The client merges every result into the course's
gradebook with :func:`~movierec_instructor.autograde.merge_gradebook` (the one merge), writes
the autograded notebooks and the same report as ``--jobs``.

Exactly once: a task whose worker dies is run again elsewhere by the scheduler, and merging
replaces a student's submission, so a retried or re-run student is never counted twice.
A worker that cannot grade raises :class:`WorkerCannotGrade` with the reason; nobody is
graded differently, and the student is ``NOT GRADED`` with that reason.
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
from collections.abc import Callable
from pathlib import Path

from movierec_instructor.autograde import (
    AUTOGRADE_OPTIONS,
    COURSE_FILES,
    cut_outputs_report,
    grading_env,
    late_findings,
    merge_gradebook,
    nbgrader_reason,
    runtime_folder,
    set_due_date,
)
from movierec_instructor.late_policy import load
from movierec_instructor.nbgrader_runner import gradebook_url, run_nbgrader
from movierec_instructor.submissions import NOT_GRADED, Finding, expected_notebooks, prepare_submissions
from movierec_instructor.untrusted import is_student_id, path_inside

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


def _extract(bundle: bytes, folder: Path) -> None:
    """Unpacks a course bundle: plain files and folders only, every path inside ``folder``.

    (``tarfile``'s ``filter="data"`` does this from Python 3.11.4; Debian 12 has 3.11.2.)
    """
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()):
                raise WorkerCannotGrade(f"the course bundle holds {member.name!r}, neither a file nor a folder")
            target = path_inside(folder, *Path(member.name).parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())


_SANDBOX_CHECKED: list[bool] = []  # a worker process checks its sandbox once
_TEMPLATES: dict[str, Path] = {}  # bundle digest -> a scratch course with the assignment registered


def _prepared_course(bundle: bytes, assignment: str) -> Path:
    """Once per worker process and bundle: the course files with the assignment generated (nbgrader's gradebook)."""
    digest = hashlib.sha256(bundle).hexdigest()
    if digest not in _TEMPLATES:
        home = Path(tempfile.mkdtemp(prefix="movierec-template-"))
        atexit.register(shutil.rmtree, home, True)
        course = home / "course"
        course.mkdir()
        _extract(bundle, course)
        db = gradebook_url(course)
        with tempfile.TemporaryDirectory() as scratch:
            run_nbgrader(course, "generate_assignment", assignment, "--force",
                         f"--CourseDirectory.release_directory={scratch}", db=db, check=True)
        set_due_date(db, assignment, load(course))
        _TEMPLATES[digest] = course
    return _TEMPLATES[digest]


def grade_student(bundle: bytes, assignment: str, student: str, files: dict[str, bytes], sandbox: bool,
                  client_environment: dict[str, str]) -> dict:
    """Runs on a worker: grades one student in a scratch course and returns what grading made.

    Returns:
        ``{"student", "worker", "autograded": {name: bytes}, "gradebook": bytes, "reason"}``;
        ``autograded`` is empty when nbgrader could not grade the submission (``reason`` says why).

    Raises:
        WorkerCannotGrade: other package versions than the client's, or no sandbox here.
    """
    worker = socket.gethostname()
    mine = environment()
    different = {k: (v, mine.get(k)) for k, v in client_environment.items() if mine.get(k) != v}
    if different:
        shown = ", ".join(f"{k} {theirs} here, {ours} on the client" for k, (ours, theirs) in different.items())
        raise WorkerCannotGrade(f"worker {worker} would grade with other versions: {shown}; "
                                "install the course's constraints.txt in the workers' environment")
    if sandbox and not _SANDBOX_CHECKED:
        from movierec_instructor.sandbox import SandboxUnavailable, check_available

        try:
            check_available()
        except SandboxUnavailable as exc:
            raise WorkerCannotGrade(f"worker {worker} cannot make the grading sandbox: {exc} "
                                    "(in a container without user namespaces, run one student per pod "
                                    "and grade with --no-sandbox)") from None
        _SANDBOX_CHECKED.append(True)
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
        done = run_nbgrader(course, "autograde", assignment, *AUTOGRADE_OPTIONS, f"--student={student}", db=db, env=env)
        graded = course / "autograded" / student / assignment
        autograded = {p.name: p.read_bytes() for p in graded.glob("*") if p.is_file()} if graded.is_dir() else {}
        return {"student": student, "worker": worker, "autograded": autograded,
                "gradebook": (course / "gradebook.db").read_bytes(),
                "reason": "" if autograded else nbgrader_reason(done)}


def _client(scheduler: str):
    from distributed import Client, LocalCluster

    if scheduler.startswith("local:"):
        workers = int(scheduler.split(":", 1)[1])
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        return Client(cluster), cluster
    return Client(scheduler), None


def autograde_on_cluster(course: Path, assignment: str, scheduler: str, *, sandbox: bool = True,
                         release: Path | None = None, db: str | None = None, only: list[str] | None = None,
                         progress: Callable[[int, int, int], None] | None = None) -> list[Finding]:
    """Grades ``assignment`` on a Dask cluster; the same report as :func:`autograde.autograde`.

    Args:
        course: the course directory.
        assignment: the assignment id.
        scheduler: a Dask scheduler address (``tcp://host:8786``), a scheduler file's path,
            or ``local:N`` for N local worker processes.
        sandbox: grade in the sandbox (workers that cannot make one refuse their tasks).
        release: the student release (default ``course/notebooks``).
        db: the course's gradebook URL.
        only: grade just these students.
        progress: called with (done, failed, total) after each student.

    Returns:
        The findings; students nobody could grade have actions starting with ``NOT GRADED``.
    """
    from distributed import as_completed

    course = Path(course).resolve()
    release = Path(release or course / "notebooks").resolve()
    db = db or gradebook_url(course)
    deadlines = load(course)
    expected = expected_notebooks(course, assignment)
    submitted = course / "submitted"
    students = sorted(p.name for p in submitted.iterdir() if is_student_id(p.name) and (p / assignment).is_dir()) \
        if submitted.is_dir() else []
    if only is not None:
        students = [s for s in students if s in set(only)]
    findings = prepare_submissions(course, assignment, release, only=students if only is not None else None)
    if not sandbox:
        findings.append(Finding("*", assignment, "graded with --no-sandbox",
                                "submissions could read hidden tests and other files; review the grades"))
    with tempfile.TemporaryDirectory() as scratch:
        run_nbgrader(course, "generate_assignment", assignment, "--force",
                     f"--CourseDirectory.release_directory={scratch}", db=db, check=True)
    set_due_date(db, assignment, deadlines)
    client, cluster = _client(scheduler)
    try:
        bundle = client.scatter(course_bundle(course, assignment), broadcast=True)
        mine = environment()
        futures = {}
        for student in students:
            folder = submitted / student / assignment
            files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
            future = client.submit(grade_student, bundle, assignment, student, files, sandbox, mine,
                                   key=f"movierec-grade-{assignment}-{student}", pure=False)
            futures[future] = student
        done = failed = 0
        for future in as_completed(futures):
            student = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker's refusal or a lost task: this student only
                failed += 1
                findings.append(Finding(student, assignment, f"not graded on the cluster: {exc}",
                                        f"{NOT_GRADED}: the submission is left as handed in; grade again"))
            else:
                done += 1
                if result["autograded"]:
                    target = course / "autograded" / student / assignment
                    target.mkdir(parents=True, exist_ok=True)
                    for name, data in result["autograded"].items():
                        path_inside(target, name).write_bytes(data)
                    with tempfile.TemporaryDirectory() as tmp:
                        worker_db = Path(tmp) / "gradebook.db"
                        worker_db.write_bytes(result["gradebook"])
                        merge_gradebook(f"sqlite:///{worker_db}", db, assignment)
                else:
                    findings.append(Finding(student, assignment, "nbgrader could not grade the submission "
                                            f"on worker {result['worker']} ({result['reason']})",
                                            f"{NOT_GRADED}: grade this student again with --jobs 1"))
            if progress:
                progress(done, failed, len(students))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    findings += cut_outputs_report(course, assignment, students, expected)
    findings += late_findings(db, assignment, students, deadlines)
    return findings
