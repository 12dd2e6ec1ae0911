"""Autograding a class with nbgrader: checks, (parallel) grading, merging grades.

1. Every submission is checked first (:mod:`movierec_instructor.submissions`).
2. nbgrader grades; with ``jobs > 1`` students are spread over worker processes, each with
   its own copy of the course (no ``solutions/`` other than what nbgrader needs) and
   gradebook, and the workers' grades and autograded notebooks are merged into the one
   gradebook (a re-run replaces, never doubles, a grade).
3. A submission that nbgrader could not grade (the kernel died, say) is replaced by the
   blank notebook and graded 0, with a report line.

Every kernel runs in the OS sandbox of :mod:`movierec_instructor.sandbox` (started by
:mod:`movierec_instructor.limited_kernel`) with memory, CPU, process and wall-clock limits,
and each cell with nbgrader's timeout, so a memory bomb or an endless loop fails alone and
no submission reaches the answers, the gradebook, other students or the network. Each
nbgrader process gets its own Jupyter runtime folder (the kernels' IPC sockets), so a
kernel never sees another kernel's connection file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from movierec_instructor.nbgrader_runner import gradebook_url, nbgrader_command, run_nbgrader, tool_env
from movierec_instructor.sandbox import SANDBOX_ENV, check_available
from movierec_instructor.submissions import Finding, expected_notebooks, prepare_submissions, set_aside


def threads_per_worker(jobs: int) -> dict[str, str]:
    """Shares the cores between workers: TensorFlow would otherwise start a full pool in each."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    return {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
            "OMP_NUM_THREADS": threads}


def merge_gradebook(worker_db: str, main_db: str, assignment: str) -> None:
    """Copies every submission of ``assignment`` from a worker's gradebook into the main one."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader's API triggers SQLAlchemy "not in session" warnings on add_submission; harmless.
    with warnings.catch_warnings(), Gradebook(worker_db) as worker, Gradebook(main_db) as main:
        warnings.simplefilter("ignore")
        for sub in worker.assignment_submissions(assignment):
            main.update_or_create_student(sub.student_id)
            try:
                main.remove_submission(assignment, sub.student_id)
            except MissingEntry:
                pass
            main.add_submission(assignment, sub.student_id, timestamp=sub.timestamp)
            for nb in sub.notebooks:
                target = main.find_submission_notebook(nb.name, assignment, sub.student_id)
                target.flagged = nb.flagged
                for grade in nb.grades:
                    mine = main.find_grade(grade.name, nb.name, assignment, sub.student_id)
                    mine.auto_score, mine.manual_score = grade.auto_score, grade.manual_score
                    mine.extra_credit, mine.needs_manual_grade = grade.extra_credit, grade.needs_manual_grade
                for comment in nb.comments:
                    mine = main.find_comment(comment.name, nb.name, assignment, sub.student_id)
                    mine.auto_comment, mine.manual_comment = comment.auto_comment, comment.manual_comment
            main.db.commit()


def _graded(course: Path, student: str, assignment: str, expected: list[str]) -> bool:
    return all((course / "autograded" / student / assignment / n).exists() for n in expected)


def grading_env(sandbox: bool, runtime_dir: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of one nbgrader process: its private runtime folder and the sandbox switch."""
    return {"JUPYTER_RUNTIME_DIR": runtime_dir, SANDBOX_ENV: "1" if sandbox else "0", **(extra or {})}


def runtime_folder(parent: Path) -> Path:
    """A grading run's private Jupyter runtime folder (connection files, IPC sockets)."""
    runtime = Path(parent) / "runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    return runtime


def _grade_in_workers(course: Path, assignment: str, shares: list[list[str]], db: str, sandbox: bool) -> None:
    """Grades each share of students in its own copy of the course, then merges the results."""
    with tempfile.TemporaryDirectory() as tmp:
        workers = []
        for k, share in enumerate(shares):
            copy = Path(tmp) / f"worker{k}"
            shutil.copytree(course / "solutions" / assignment, copy / "solutions" / assignment)
            shutil.copy(course / "nbgrader_config.py", copy)
            for student in share:
                shutil.copytree(course / "submitted" / student / assignment,
                                copy / "submitted" / student / assignment)
            worker_db = gradebook_url(copy)
            generate = nbgrader_command("generate_assignment", assignment, "--force",
                                        f"--CourseDirectory.release_directory={copy / 'release'}",
                                        db=worker_db)
            runtime = runtime_folder(copy)
            grade = nbgrader_command("autograde", assignment, "--force", db=worker_db)
            # Each worker registers the assignment in its own gradebook, then grades.
            script = " && ".join(shlex.join(cmd) for cmd in (generate, grade))
            env = grading_env(sandbox, str(runtime), threads_per_worker(len(shares)))
            workers.append((copy, worker_db, subprocess.Popen(
                ["bash", "-c", script], cwd=copy, env=tool_env(env),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        for copy, worker_db, process in workers:
            process.wait()
            merge_gradebook(worker_db, db, assignment)
            for student_dir in (copy / "autograded").glob("*"):
                target = course / "autograded" / student_dir.name / assignment
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(student_dir / assignment, target)


def autograde(course: Path, assignment: str, *, jobs: int = 1, release: Path | None = None,
              db: str | None = None, sandbox: bool = True) -> list[Finding]:
    """Checks, grades and records every submission of ``assignment``.

    Args:
        course: the course directory (``solutions/``, ``submitted/``, ``nbgrader_config.py``).
        assignment: the assignment id.
        jobs: worker processes; each grades a share of the students in its own copy.
        release: the student release (default ``course/notebooks``), used for blank copies.
        db: the gradebook URL (default ``sqlite:///course/gradebook.db``).
        sandbox: run every kernel in the OS sandbox; False only on the instructor's explicit
            ``--no-sandbox`` (then written into the report).

    Returns:
        The report: one :class:`Finding` per repaired, rejected or failed submission.

    Raises:
        RuntimeError: nbgrader cannot register the assignment.
        movierec_instructor.sandbox.SandboxUnavailable: no sandbox can be made here (the
            message says how to get one) and ``sandbox`` is True.
    """
    if sandbox:
        check_available()
    course = Path(course).resolve()
    release = Path(release or course / "notebooks").resolve()
    db = db or gradebook_url(course)
    expected = expected_notebooks(course, assignment)
    findings = prepare_submissions(course, assignment, release)
    if not sandbox:
        findings.append(Finding("*", assignment, "graded with --no-sandbox",
                                "submissions could read hidden tests and other files; review the grades"))
    with tempfile.TemporaryDirectory() as scratch:  # nbgrader writes a release copy we do not need
        run_nbgrader(course, "generate_assignment", assignment, "--force",
                     f"--CourseDirectory.release_directory={scratch}", db=db, check=True)
    students = sorted(p.name for p in (course / "submitted").iterdir() if (p / assignment).is_dir())
    shares = [students[i::jobs] for i in range(max(1, min(jobs, len(students))))]
    with tempfile.TemporaryDirectory() as tmp:
        env = grading_env(sandbox, str(runtime_folder(Path(tmp))))
        if len(shares) <= 1:
            run_nbgrader(course, "autograde", assignment, "--force", db=db, env=env)
        else:
            _grade_in_workers(course, assignment, shares, db, sandbox)
        _regrade_failures(course, assignment, students, expected, release, db, env, findings)
    return findings


def _regrade_failures(course: Path, assignment: str, students: list[str], expected: list[str],
                      release: Path, db: str, env: dict[str, str], findings: list[Finding]) -> None:
    """Grades the blank notebook for every student nbgrader could not grade, with a report line."""
    for student in students:
        if _graded(course, student, assignment, expected):
            continue
        kept = [set_aside(course / "submitted" / student / assignment / name, release / assignment / name).name
                for name in expected]
        findings.append(Finding(student, assignment, "nbgrader could not grade the submission "
                                "(the kernel died or the notebook broke the grader)",
                                f"graded as the blank notebook (0); the submission is kept as {', '.join(kept)}"))
        run_nbgrader(course, "autograde", assignment, "--force", f"--student={student}", db=db, env=env)
