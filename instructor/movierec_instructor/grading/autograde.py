"""Autograding a class with nbgrader: checks, (parallel) grading, merging grades.

0. Before anything is touched, the grading kernel is started once (:func:`kernel_probe`):
   if it cannot start, nobody is graded and every submission stays as handed in.
1. Every submission is checked first (:mod:`movierec_instructor.grading.submissions`); a folder
   whose name is not a valid student id is reported and left alone.
2. nbgrader grades in ``jobs`` worker processes, each with its own copy of the course (no
   ``solutions/`` other than what nbgrader needs, only the accepted students) and gradebook,
   and the workers' grades and autograded notebooks are merged into the one gradebook (a
   re-run replaces, never doubles, a grade).
3. One submission can fail only itself: a student nbgrader did not grade in the shared run
   (one notebook can abort nbgrader for every student after it) is graded again alone.
   If that fails too, the grading kernel is started once more on its own: when it cannot
   start, the machine is at fault and the student is *not graded* (the submission stays as
   handed in, the report says why, and the command exits non-zero; a re-run grades them);
   when it can, the submission is at fault: it is set aside for review and the blank
   notebook is graded 0, with nbgrader's reason in the report.
4. Outputs are cut to a size in bytes while grading (:mod:`movierec_instructor.grading.output_limits`).

Every kernel runs in the OS sandbox of :mod:`movierec_instructor.integrity.sandbox` (started by
:mod:`movierec_instructor.integrity.limited_kernel`) with memory, CPU, process and wall-clock limits,
and each cell with nbgrader's timeout, so a memory bomb or an endless loop fails alone and
no submission reaches the answers, the gradebook, other students or the network. Each
nbgrader process gets its own Jupyter runtime folder (the kernels' IPC sockets), so a
kernel never sees another kernel's connection file.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from movierec_instructor.grading.class_run import ClassRun, merge_gradebook
from movierec_instructor.grading.late_policy import DEADLINES, EXTENSIONS
from movierec_instructor.grading.nbgrader_runner import (
    gradebook_url,
    nbgrader_command,
    run_nbgrader,
    start_nbgrader,
    tool_env,
)
from movierec_instructor.grading.submissions import NOT_GRADED, Finding, set_aside_all
from movierec_instructor.integrity.sandbox import SANDBOX_ENV, check_available

GRADING_KERNEL = "movierec-grading"
# nbgrader's own autograde steps, with the output limit in bytes before anything else reads the outputs.
AUTOGRADE_STEPS = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "movierec_instructor.grading.output_limits.LimitOutputBytes",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
AUTOGRADE_OPTIONS = (
    "--force",
    f"--Autograde.autograde_preprocessors={AUTOGRADE_STEPS!r}",
    "--AssignLatePenalties.plugin_class=movierec_instructor.grading.late_policy.CourseLatePolicy",
)
EXECUTE_STEP = AUTOGRADE_STEPS[0]


def autograde_options(execute: str = EXECUTE_STEP) -> tuple[str, ...]:
    """nbgrader's autograde options, with ``execute`` (a subclass of nbgrader's Execute) running the cells.

    The grading service (:mod:`movierec_instructor.hub`) names one that takes a kernel started ahead.
    """
    if execute == EXECUTE_STEP:
        return AUTOGRADE_OPTIONS
    steps = [execute, *AUTOGRADE_STEPS[1:]]
    return ("--force", f"--Autograde.autograde_preprocessors={steps!r}", AUTOGRADE_OPTIONS[2])


COURSE_FILES = ("nbgrader_config.py", DEADLINES, EXTENSIONS)  # what a worker's copy of the course needs


def threads_per_worker(jobs: int) -> dict[str, str]:
    """Shares the cores between workers: TensorFlow would otherwise start a full pool in each."""
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    return {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads, "OMP_NUM_THREADS": threads}


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


def _grade_in_workers(
    course: Path,
    assignment: str,
    shares: list[list[str]],
    db: str,
    sandbox: bool,
    due: dt.datetime | None = None,
    options: tuple[str, ...] = AUTOGRADE_OPTIONS,
    registered: bool = False,
) -> None:
    """Grades each share of students in its own copy of the course, then merges the results.

    ``registered``: the SQLite gradebook ``db`` holds the assignment and its due date and no
    submission; each worker starts from a copy of it instead of running generate_assignment.
    """
    with tempfile.TemporaryDirectory() as tmp:
        workers = []
        for k, share in enumerate(shares):
            copy = Path(tmp) / f"worker{k}"
            shutil.copytree(course / "solutions" / assignment, copy / "solutions" / assignment)
            for name in COURSE_FILES:
                if (course / name).exists():
                    shutil.copy(course / name, copy)
            for student in share:
                shutil.copytree(
                    course / "submitted" / student / assignment, copy / "submitted" / student / assignment
                )
            worker_db = gradebook_url(copy)
            if registered:
                shutil.copy(db.removeprefix("sqlite:///"), copy / "gradebook.db")
            generate = nbgrader_command(
                "generate_assignment",
                assignment,
                "--force",
                f"--CourseDirectory.release_directory={copy / 'release'}",
                db=worker_db,
            )
            runtime = runtime_folder(copy)
            grade = nbgrader_command("autograde", assignment, *options, db=worker_db)
            # Each worker registers the assignment (and its due date) in its own gradebook, then grades.
            steps = [grade] if registered else [generate, grade]
            if due is not None and not registered:
                steps.insert(
                    0,
                    nbgrader_command(
                        "db",
                        "assignment",
                        "add",
                        assignment,
                        f"--duedate={due.strftime('%Y-%m-%d %H:%M:%S')} UTC",
                        db=worker_db,
                    ),
                )
            env = grading_env(sandbox, str(runtime), threads_per_worker(len(shares)))
            workers.append((copy, worker_db, start_nbgrader(steps, copy, tool_env(env))))
        for copy, worker_db, process in workers:
            process.wait()
            merge_gradebook(worker_db, db, assignment)
            for student_dir in (copy / "autograded").glob("*"):
                target = course / "autograded" / student_dir.name / assignment
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(student_dir / assignment, target)


def kernel_probe(runtime: Path, sandbox: bool, timeout: float = 120) -> str | None:
    """Starts the grading kernel as nbgrader would and runs one line; None if it works, else why not."""
    from jupyter_client import KernelManager

    workdir = Path(tempfile.mkdtemp(dir=runtime))
    manager = KernelManager(kernel_name=GRADING_KERNEL, transport="ipc", ip=str(runtime / "probe"))
    try:
        manager.start_kernel(env=tool_env(grading_env(sandbox, str(runtime))), cwd=str(workdir))
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=timeout)
            reply = client.execute_interactive("1 + 1", timeout=timeout, output_hook=lambda _message: None)
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            return f"the kernel answered {reply['content'].get('ename', 'an error')}"
        return None
    except Exception as exc:  # noqa: BLE001 - any failure to start or answer is the machine's
        return f"{type(exc).__name__}: {str(exc).strip()[:300]}"
    finally:
        try:
            manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - it never started
            pass
        shutil.rmtree(workdir, ignore_errors=True)


def autograde(
    course: Path,
    assignment: str,
    *,
    jobs: int = 1,
    release: Path | None = None,
    db: str | None = None,
    sandbox: bool = True,
    only: list[str] | None = None,
    execute: str = EXECUTE_STEP,
    probe: bool = True,
    registered: bool = False,
) -> list[Finding]:
    """Checks, grades and records every submission of ``assignment``.

    Args:
        course: the course directory (``solutions/``, ``submitted/``, ``nbgrader_config.py``).
        assignment: the assignment id.
        jobs: worker processes; each grades a share of the students in its own copy.
        release: the student release (default ``course/notebooks``), used for blank copies.
        db: the gradebook URL (default ``sqlite:///course/gradebook.db``).
        sandbox: run every kernel in the OS sandbox; False only on the instructor's explicit
            ``--no-sandbox`` (then written into the report).
        execute: the preprocessor that runs the cells (see :func:`autograde_options`).
        only: regrade just these students (``--student``); everyone else's submission, grades
            and timestamps stay as they are. Grading again replaces grades, never adds to them.
        execute: the preprocessor that runs the cells (see :func:`autograde_options`); the
            failures graded alone use it too.
        probe: start the grading kernel once before anything is touched; False only where a
            kernel of this machine has just answered (the grading service's warm kernel). A
            failure is still classified by a probe.
        registered: the gradebook ``db`` (SQLite) already holds the assignment as
            ``nbgrader generate_assignment`` registers it, and no submission of it (the grading
            service's one-student copy of the course, made from a cached registration); then
            nbgrader's generate_assignment is not run again. The due date is set all the same.

    Returns:
        The report: one :class:`Finding` per repaired, rejected or failed submission; a
        student nobody could grade has an action starting with ``NOT GRADED``.

    Raises:
        RuntimeError: nbgrader cannot register the assignment.
        movierec_instructor.integrity.sandbox.SandboxUnavailable: no sandbox can be made here (the
            message says how to get one) and ``sandbox`` is True.
    """
    if sandbox:
        check_available()
    run = ClassRun.plan(course, assignment, release=release, db=db, sandbox=sandbox, only=only)
    course, students = run.course, run.students
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_folder(Path(tmp))
        broken = kernel_probe(runtime, sandbox) if probe else None
        if broken:
            # Nothing is touched: no repair, no blank, no grade. A re-run grades everyone.
            return run.not_graded(
                students,
                f"the grading kernel cannot start on this machine ({broken})",
                "the submission is left as handed in; fix the machine and grade again",
            )
        findings = run.prepare(generate=not registered)
        shares = [students[i::jobs] for i in range(max(1, min(jobs, len(students))))]
        options = autograde_options(execute)
        if students:
            _grade_in_workers(course, assignment, shares, run.db, sandbox, run.due, options, registered)
        env = grading_env(sandbox, str(runtime))
        _grade_failures_alone(
            course,
            assignment,
            students,
            run.expected,
            run.release,
            run.db,
            env,
            runtime,
            sandbox,
            findings,
            options,
        )
    return findings + run.finish()


def nbgrader_reason(done: subprocess.CompletedProcess) -> str:
    """The last line of nbgrader's complaint that says something, for the report."""
    lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    meaningful = [line for line in lines if "Error" in line or "error" in line] or lines
    return meaningful[-1][:300] if meaningful else f"nbgrader exited with status {done.returncode}"


def _grade_failures_alone(
    course: Path,
    assignment: str,
    students: list[str],
    expected: list[str],
    release: Path,
    db: str,
    env: dict[str, str],
    runtime: Path,
    sandbox: bool,
    findings: list[Finding],
    options: tuple[str, ...] = AUTOGRADE_OPTIONS,
) -> None:
    """Grades alone each student the shared run did not grade, and decides whose fault a failure is."""
    for student in students:
        if _graded(course, student, assignment, expected):
            continue
        done = run_nbgrader(course, "autograde", assignment, *options, f"--student={student}", db=db, env=env)
        if _graded(course, student, assignment, expected):
            continue
        broken = kernel_probe(runtime, sandbox)
        if broken:
            _forget_submission(db, assignment, student)
            findings.append(
                Finding(
                    student,
                    assignment,
                    f"the grading kernel failed on this machine ({broken})",
                    f"{NOT_GRADED}: the submission is left as handed in; grade again",
                )
            )
            continue
        kept = set_aside_all(course / "submitted" / student / assignment, expected, release / assignment)
        findings.append(
            Finding(
                student,
                assignment,
                "nbgrader could not grade the submission "
                f"(the notebook broke the grader or its kernel: {nbgrader_reason(done)})",
                kept,
            )
        )
        run_nbgrader(course, "autograde", assignment, *options, f"--student={student}", db=db, env=env)


def _forget_submission(db: str, assignment: str, student: str) -> None:
    """Removes a submission nobody graded from the gradebook, so no export shows it as a score."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(db) as gb:
        warnings.simplefilter("ignore")
        try:
            gb.remove_submission(assignment, student)
        except MissingEntry:
            pass
