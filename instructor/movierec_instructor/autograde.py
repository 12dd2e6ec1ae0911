"""Autograding a class with nbgrader: checks, (parallel) grading, merging grades.

0. Before anything is touched, the grading kernel is started once (:func:`kernel_probe`):
   if it cannot start, nobody is graded and every submission stays as handed in.
1. Every submission is checked first (:mod:`movierec_instructor.submissions`); a folder
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
4. Outputs are cut to a size in bytes while grading (:mod:`movierec_instructor.output_limits`).

Every kernel runs in the OS sandbox of :mod:`movierec_instructor.sandbox` (started by
:mod:`movierec_instructor.limited_kernel`) with memory, CPU, process and wall-clock limits,
and each cell with nbgrader's timeout, so a memory bomb or an endless loop fails alone and
no submission reaches the answers, the gradebook, other students or the network. Each
nbgrader process gets its own Jupyter runtime folder (the kernels' IPC sockets), so a
kernel never sees another kernel's connection file.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from movierec_instructor.late_policy import DEADLINES, EXTENSIONS, Deadlines, describe, load
from movierec_instructor.nbgrader_runner import gradebook_url, nbgrader_command, run_nbgrader, tool_env
from movierec_instructor.sandbox import SANDBOX_ENV, check_available
from movierec_instructor.submissions import (
    NOT_GRADED,
    Finding,
    expected_notebooks,
    prepare_submissions,
    set_aside_all,
)
from movierec_instructor.untrusted import is_student_id, terminal_safe

GRADING_KERNEL = "movierec-grading"
# nbgrader's own autograde steps, with the output limit in bytes before anything else reads the outputs.
AUTOGRADE_STEPS = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "movierec_instructor.output_limits.LimitOutputBytes",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
AUTOGRADE_OPTIONS = ("--force", f"--Autograde.autograde_preprocessors={AUTOGRADE_STEPS!r}",
                     "--AssignLatePenalties.plugin_class=movierec_instructor.late_policy.CourseLatePolicy")
COURSE_FILES = ("nbgrader_config.py", DEADLINES, EXTENSIONS)  # what a worker's copy of the course needs


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
                target.late_submission_penalty = nb.late_submission_penalty
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


def _grade_in_workers(course: Path, assignment: str, shares: list[list[str]], db: str, sandbox: bool,
                      due: dt.datetime | None = None) -> None:
    """Grades each share of students in its own copy of the course, then merges the results."""
    with tempfile.TemporaryDirectory() as tmp:
        workers = []
        for k, share in enumerate(shares):
            copy = Path(tmp) / f"worker{k}"
            shutil.copytree(course / "solutions" / assignment, copy / "solutions" / assignment)
            for name in COURSE_FILES:
                if (course / name).exists():
                    shutil.copy(course / name, copy)
            for student in share:
                shutil.copytree(course / "submitted" / student / assignment,
                                copy / "submitted" / student / assignment)
            worker_db = gradebook_url(copy)
            generate = nbgrader_command("generate_assignment", assignment, "--force",
                                        f"--CourseDirectory.release_directory={copy / 'release'}",
                                        db=worker_db)
            runtime = runtime_folder(copy)
            grade = nbgrader_command("autograde", assignment, *AUTOGRADE_OPTIONS, db=worker_db)
            # Each worker registers the assignment (and its due date) in its own gradebook, then grades.
            steps = [generate, grade]
            if due is not None:
                steps.insert(0, nbgrader_command("db", "assignment", "add", assignment,
                                                 f"--duedate={due.strftime('%Y-%m-%d %H:%M:%S')} UTC", db=worker_db))
            script = " && ".join(shlex.join(cmd) for cmd in steps)
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


def autograde(course: Path, assignment: str, *, jobs: int = 1, release: Path | None = None,
              db: str | None = None, sandbox: bool = True, only: list[str] | None = None) -> list[Finding]:
    """Checks, grades and records every submission of ``assignment``.

    Args:
        course: the course directory (``solutions/``, ``submitted/``, ``nbgrader_config.py``).
        assignment: the assignment id.
        jobs: worker processes; each grades a share of the students in its own copy.
        release: the student release (default ``course/notebooks``), used for blank copies.
        db: the gradebook URL (default ``sqlite:///course/gradebook.db``).
        sandbox: run every kernel in the OS sandbox; False only on the instructor's explicit
            ``--no-sandbox`` (then written into the report).
        only: regrade just these students (``--student``); everyone else's submission, grades
            and timestamps stay as they are. Grading again replaces grades, never adds to them.

    Returns:
        The report: one :class:`Finding` per repaired, rejected or failed submission; a
        student nobody could grade has an action starting with ``NOT GRADED``.

    Raises:
        RuntimeError: nbgrader cannot register the assignment.
        movierec_instructor.sandbox.SandboxUnavailable: no sandbox can be made here (the
            message says how to get one) and ``sandbox`` is True.
    """
    if sandbox:
        check_available()
    course = Path(course).resolve()
    deadlines = load(course)  # a bad deadlines.toml or extensions.csv stops here, before anything is touched
    release = Path(release or course / "notebooks").resolve()
    db = db or gradebook_url(course)
    expected = expected_notebooks(course, assignment)
    submitted = course / "submitted"
    students = sorted(p.name for p in submitted.iterdir() if is_student_id(p.name) and (p / assignment).is_dir()) \
        if submitted.is_dir() else []
    missing = []
    if only is not None:
        missing = sorted(set(only) - set(students))
        students = [s for s in students if s in set(only)]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_folder(Path(tmp))
        broken = kernel_probe(runtime, sandbox)
        if broken:
            # Nothing is touched: no repair, no blank, no grade. A re-run grades everyone.
            return [Finding(student, assignment, f"the grading kernel cannot start on this machine ({broken})",
                            f"{NOT_GRADED}: the submission is left as handed in; fix the machine and grade again")
                    for student in students]
        findings = prepare_submissions(course, assignment, release, only=students if only is not None else None)
        findings += [Finding(terminal_safe(s), assignment, "--student names no submission of this assignment",
                             f"{NOT_GRADED}: nothing to grade") for s in missing]
        if not sandbox:
            findings.append(Finding("*", assignment, "graded with --no-sandbox",
                                    "submissions could read hidden tests and other files; review the grades"))
        with tempfile.TemporaryDirectory() as scratch:  # nbgrader writes a release copy we do not need
            run_nbgrader(course, "generate_assignment", assignment, "--force",
                         f"--CourseDirectory.release_directory={scratch}", db=db, check=True)
        due = set_due_date(db, assignment, deadlines)
        shares = [students[i::jobs] for i in range(max(1, min(jobs, len(students))))]
        if students:
            _grade_in_workers(course, assignment, shares, db, sandbox, due)
        env = grading_env(sandbox, str(runtime))
        _grade_failures_alone(course, assignment, students, expected, release, db, env, runtime, sandbox, findings)
    findings += cut_outputs_report(course, assignment, students, expected)
    findings += late_findings(db, assignment, students, deadlines)
    return findings


def set_due_date(db: str, assignment: str, deadlines: Deadlines) -> dt.datetime | None:
    """Puts the assignment's due date from ``deadlines.toml`` into the gradebook (naive UTC, as nbgrader keeps it)."""
    due = deadlines.due.get(assignment)
    if due is None:
        return None
    from nbgrader.api import Gradebook

    naive = due.astimezone(dt.UTC).replace(tzinfo=None)
    with Gradebook(db) as gb:
        gb.update_or_create_assignment(assignment, duedate=naive)
    return naive


def late_findings(db: str, assignment: str, students: list[str], deadlines: Deadlines) -> list[Finding]:
    """One report line per late student: how late, the extension, the penalty nbgrader recorded."""
    if assignment not in deadlines.due:
        return []
    from nbgrader.api import Gradebook, MissingEntry

    found = []
    with Gradebook(db) as gb:
        for student in students:
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                continue
            if not sub.timestamp:
                continue
            late = deadlines.seconds_late(student, assignment, sub.timestamp)
            extra, note = deadlines.extensions.get((student, assignment), (0.0, ""))
            if late <= 0 and not extra:
                continue
            percent = deadlines.policy.percent(late)
            ext = f" (extension {extra / 3600:g} h{': ' + note if note else ''})" if extra else ""
            what = describe(late, percent) if late > 0 else "on time"
            found.append(Finding(student, assignment, f"{what}{ext}",
                                 f"late penalty {sub.late_submission_penalty or 0:g} point(s) of {sub.score:g}"))
    return found


def cut_outputs_report(course: Path, assignment: str, students: list[str], expected: list[str]) -> list[Finding]:
    """Report lines for notebooks whose outputs the grader cut to the byte limits."""
    import json

    found = []
    for student in students:
        for name in expected:
            path = course / "autograded" / student / assignment / name
            try:
                cut = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("movierec", {})
            except (OSError, ValueError):
                continue
            if cut.get("truncated_outputs"):
                found.append(Finding(student, assignment, f"{name}: {cut['truncated_outputs']} output(s) over the "
                                     "size limit", "cut in the graded notebook and the feedback (scores unchanged)"))
    return found


def nbgrader_reason(done: subprocess.CompletedProcess) -> str:
    """The last line of nbgrader's complaint that says something, for the report."""
    lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    meaningful = [line for line in lines if "Error" in line or "error" in line] or lines
    return meaningful[-1][:300] if meaningful else f"nbgrader exited with status {done.returncode}"


def _grade_failures_alone(course: Path, assignment: str, students: list[str], expected: list[str], release: Path,
                          db: str, env: dict[str, str], runtime: Path, sandbox: bool,
                          findings: list[Finding]) -> None:
    """Grades alone each student the shared run did not grade, and decides whose fault a failure is."""
    for student in students:
        if _graded(course, student, assignment, expected):
            continue
        done = run_nbgrader(course, "autograde", assignment, *AUTOGRADE_OPTIONS, f"--student={student}",
                            db=db, env=env)
        if _graded(course, student, assignment, expected):
            continue
        broken = kernel_probe(runtime, sandbox)
        if broken:
            _forget_submission(db, assignment, student)
            findings.append(Finding(student, assignment, f"the grading kernel failed on this machine ({broken})",
                                    f"{NOT_GRADED}: the submission is left as handed in; grade again"))
            continue
        kept = set_aside_all(course / "submitted" / student / assignment, expected, release / assignment)
        findings.append(Finding(student, assignment, "nbgrader could not grade the submission "
                                f"(the notebook broke the grader or its kernel: {nbgrader_reason(done)})", kept))
        run_nbgrader(course, "autograde", assignment, *AUTOGRADE_OPTIONS, f"--student={student}", db=db, env=env)


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
