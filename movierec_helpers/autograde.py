"""Autograding a class with nbgrader: submission checks, parallel grading, merging, export.

nbgrader grades one notebook at a time and trusts what it is given. Around it, this module:

1. **Checks every submission first** (:func:`prepare_submissions`): a renamed assignment
   folder or notebook is put back under the expected name; an old notebook format is
   upgraded; repeated graded cells are dropped (nbgrader refuses such a notebook); a file that is not a notebook (not JSON, empty, invalid) and a notebook whose
   code tampers with what the tests rely on (rebinding ``np``/``tf``/test helpers, patching
   modules or ``builtins``, ``sys.modules``, ending the kernel, writing ``.py`` files) is set
   aside (kept next to it as ``*.rejected``) and replaced by the blank release notebook, so it
   is graded 0 and still appears in the gradebook. Every action is written to the report.
2. **Grades in parallel** (:func:`autograde` with ``jobs > 1``): students are spread over
   worker processes, each with its own copy of the course directory and gradebook; the
   workers' grades and autograded notebooks are then merged into the one gradebook, one
   submission per student (a re-run replaces, never doubles, a grade).
3. **Falls back on failure**: a submission that nbgrader could not grade (the kernel died,
   say) is replaced by the blank notebook and graded 0, with a report line.

Grading kernels run with memory and CPU-time limits (:mod:`movierec_helpers.limited_kernel`),
and each cell with nbgrader's timeout, so a memory bomb or an endless loop fails alone.
"""

from __future__ import annotations

import ast
import csv
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from movierec_helpers.course import tool_env

MODULE_ALIASES = {"np", "numpy", "tf", "tensorflow", "pd", "pandas", "builtins", "sys", "os",
                  "movierec_helpers", "keras", "math", "unittest", "pytest", "importlib"}
PROTECTED_NAMES = {"np", "tf", "pd", "own_work", "record_metrics", "AssertionError", "print",
                   "isinstance", "len", "float", "set", "list", "__builtins__", "builtins"}
ALLOWED_ATTRIBUTE_PREFIXES = ("pd.options", "pandas.options", "np.random", "os.environ")
KERNEL_ENDERS = {"os._exit", "sys.exit", "exit", "quit", "os.kill", "os.abort", "os.killpg"}


@dataclass(frozen=True)
class Finding:
    """One line of the grading report."""

    student: str
    assignment: str
    problem: str
    action: str


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def tampering(source: str) -> list[str]:
    """What in this code changes the ground the tests stand on (empty if nothing).

    Args:
        source: Python source of one or more notebook cells.

    Returns:
        A description per finding, e.g. ``"assigns np.testing.assert_allclose (line 3)"``.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # a syntax error fails the student's own cell; nothing to defend
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in PROTECTED_NAMES:
            found.append(f"redefines {node.name} (line {node.lineno})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                expected = {"np": "numpy", "tf": "tensorflow", "pd": "pandas"}.get(bound)
                if expected and not alias.name.startswith(expected) and not (
                    isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("movierec_helpers")
                ):
                    found.append(f"binds {bound} to {alias.name} (line {node.lineno})")
                if bound in {"own_work", "record_metrics"} and not (
                    isinstance(node, ast.ImportFrom) and node.module == "movierec_helpers.grading"
                ):
                    found.append(f"imports its own {bound} (line {node.lineno})")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in KERNEL_ENDERS:
                found.append(f"calls {name} (line {node.lineno})")
            if name in {"setattr", "delattr"} and node.args and _dotted(node.args[0]) in MODULE_ALIASES | {
                    "np.testing", "numpy.testing"}:
                found.append(f"calls {name} on {_dotted(node.args[0])} (line {node.lineno})")
            if name in {"open", "Path", "pathlib.Path"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and str(first.value).endswith(".py"):
                    found.append(f"writes a Python file {first.value} (line {node.lineno})")
        for target in targets:
            if isinstance(target, ast.Name) and target.id in PROTECTED_NAMES:
                found.append(f"rebinds {target.id} (line {node.lineno})")
            dotted = _dotted(target) if isinstance(target, ast.Attribute) else None
            if dotted and dotted.split(".")[0] in MODULE_ALIASES and not dotted.startswith(ALLOWED_ATTRIBUTE_PREFIXES):
                found.append(f"assigns {dotted} (line {node.lineno})")
            if isinstance(target, ast.Subscript) and _dotted(target.value) in {"sys.modules", "builtins.__dict__"}:
                found.append(f"changes {_dotted(target.value)} (line {node.lineno})")
    return found


def _notebook_code(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code" and not c.source.lstrip().startswith(("%", "!")))


def _set_aside(path: Path, blank: Path) -> Path:
    kept = path.with_name(path.name + ".rejected")
    shutil.move(path, kept)
    shutil.copy(blank, path)
    return kept


def prepare_submissions(course: Path, assignment: str, release: Path) -> list[Finding]:
    """Checks and repairs ``submitted/*/<assignment>`` before grading (see the module doc)."""
    expected = sorted(p.name for p in (course / "solutions" / assignment).glob("*.ipynb"))
    findings: list[Finding] = []
    for student_dir in sorted(p for p in (course / "submitted").iterdir() if p.is_dir()):
        student = student_dir.name

        def note(problem, action):
            findings.append(Finding(student, assignment, problem, action))

        folder = student_dir / assignment
        if not folder.exists():
            candidates = [d for d in student_dir.iterdir() if d.is_dir() and any((d / n).exists() for n in expected)]
            if len(candidates) != 1:
                continue  # this student did not submit this assignment
            candidates[0].rename(folder)
            note(f"assignment folder named {candidates[0].name!r}", f"renamed to {assignment!r}")
        for name in expected:
            path, blank = folder / name, release / assignment / name
            if not path.exists():
                strays = sorted(p for p in folder.glob("*.ipynb") if p.name not in expected)
                if len(strays) == 1:
                    strays[0].rename(path)
                    note(f"notebook named {strays[0].name!r}", f"renamed to {name!r}")
                else:
                    shutil.copy(blank, path)
                    note(f"no notebook {name!r}", "graded as the blank notebook (0)")
                    continue
            try:
                version = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT).nbformat
                nb = nbformat.read(path, as_version=4)
                nbformat.validate(nb)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is handled the same way
                kept = _set_aside(path, blank)
                note(f"{name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:120]})",
                     f"graded as the blank notebook (0); the file is kept as {kept.name}")
                continue
            if version < 4:
                nbformat.write(nb, path)
                note(f"{name} is in notebook format {version}", "upgraded to format 4")
            seen, duplicates = set(), []
            for cell in list(nb.cells):
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id and grade_id in seen:
                    nb.cells.remove(cell)
                    duplicates.append(grade_id)
                seen.add(grade_id)
            if duplicates:
                nbformat.write(nb, path)
                note(f"{name} repeats graded cells {sorted(set(duplicates))}", "kept the first copy of each")
            problems = tampering(_notebook_code(nb))
            if problems:
                kept = _set_aside(path, blank)
                note(f"{name} tampers with the tests: {'; '.join(problems)}",
                     f"graded 0 for review; the submission is kept as {kept.name}")
        for extra in sorted(p.name for p in folder.glob("*.ipynb") if p.name not in expected):
            note(f"extra notebook {extra!r}", "not graded")
    return findings


def _nbgrader(course: Path, *args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.db_url={db}", "--log-level=ERROR"],
        cwd=course, env={**tool_env(), "MOVIEREC_PROGRESS": "0"}, capture_output=True, text=True,
    )


def _threads_per_worker(jobs: int) -> dict[str, str]:
    """Shares the cores between workers: TensorFlow would otherwise start a full pool in each."""
    import os

    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    return {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
            "OMP_NUM_THREADS": threads}


def _merge(worker_db: str, main_db: str, assignment: str) -> None:
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


def autograde(course: Path, assignment: str, *, jobs: int = 1, release: Path | None = None,
              db: str | None = None) -> list[Finding]:
    """Checks, grades and records every submission of ``assignment``.

    Args:
        course: the course directory (``solutions/``, ``submitted/``, ``nbgrader_config.py``).
        assignment: the assignment id.
        jobs: worker processes; each grades a share of the students in its own copy.
        release: the student release (default ``course/notebooks``), used for blank copies.
        db: the gradebook URL (default ``sqlite:///course/gradebook.db``).

    Returns:
        The report: one :class:`Finding` per repaired, rejected or failed submission.
    """
    course = Path(course).resolve()
    release = Path(release or course / "notebooks").resolve()
    db = db or f"sqlite:///{course / 'gradebook.db'}"
    expected = sorted(p.name for p in (course / "solutions" / assignment).glob("*.ipynb"))
    findings = prepare_submissions(course, assignment, release)
    done = _nbgrader(course, "generate_assignment", assignment, "--force",
                     f"--CourseDirectory.release_directory={tempfile.mkdtemp()}", db=db)
    if done.returncode:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{done.stderr[-2000:]}")
    students = sorted(p.name for p in (course / "submitted").iterdir() if (p / assignment).is_dir())
    shares = [students[i::jobs] for i in range(max(1, min(jobs, len(students))))]
    if len(shares) <= 1:
        _nbgrader(course, "autograde", assignment, "--force", db=db)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            workers = []
            for k, share in enumerate(shares):
                copy = Path(tmp) / f"worker{k}"
                shutil.copytree(course / "solutions", copy / "solutions")
                shutil.copy(course / "nbgrader_config.py", copy)
                for student in share:
                    shutil.copytree(course / "submitted" / student / assignment,
                                    copy / "submitted" / student / assignment)
                worker_db = f"sqlite:///{copy / 'gradebook.db'}"
                nbgrader = [sys.executable, "-m", "nbgrader"]
                common = [f"--CourseDirectory.db_url={worker_db}", "--log-level=ERROR"]
                generate = [*nbgrader, "generate_assignment", assignment, "--force",
                            f"--CourseDirectory.release_directory={copy / 'release'}", *common]
                grade = [*nbgrader, "autograde", assignment, "--force", *common]
                # Each worker registers the assignment in its own gradebook, then grades.
                script = " && ".join(" ".join(shlex.quote(a) for a in cmd) for cmd in (generate, grade))
                workers.append((copy, worker_db, subprocess.Popen(
                    ["bash", "-c", script], cwd=copy,
                    env={**tool_env(), "MOVIEREC_PROGRESS": "0", **_threads_per_worker(len(shares))},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            for copy, worker_db, process in workers:
                process.wait()
                _merge(worker_db, db, assignment)
                for student_dir in (copy / "autograded").glob("*"):
                    target = course / "autograded" / student_dir.name / assignment
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(student_dir / assignment, target)
    for student in students:
        if not _graded(course, student, assignment, expected):
            for name in expected:
                path = course / "submitted" / student / assignment / name
                kept = _set_aside(path, release / assignment / name)
            findings.append(Finding(student, assignment, "nbgrader could not grade the submission "
                                    "(the kernel died or the notebook broke the grader)",
                                    f"graded as the blank notebook (0); the submission is kept as {kept.name}"))
            _nbgrader(course, "autograde", assignment, "--force", f"--student={student}", db=db)
    return findings


def export_grades(course: Path, out: Path, db: str | None = None) -> Path:
    """Writes nbgrader's grades table (one row per student and assignment) to ``out``."""
    course = Path(course).resolve()
    db = db or f"sqlite:///{course / 'gradebook.db'}"
    done = _nbgrader(course, "export", f"--CsvExportPlugin.to={Path(out).resolve()}", db=db)
    if done.returncode:
        raise RuntimeError(f"nbgrader export failed:\n{done.stderr[-2000:]}")
    return Path(out)


def write_report(findings: list[Finding], out: Path) -> Path:
    """Writes the grading report as CSV (student, assignment, problem, action)."""
    with open(out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "assignment", "problem", "action"])
        writer.writerows((f.student, f.assignment, f.problem, f.action) for f in findings)
    return Path(out)


def feedback(course: Path, assignment: str, *, hide_hidden_tests: bool = True, db: str | None = None) -> None:
    """Generates HTML feedback; by default with the hidden tests' source removed.

    nbgrader's feedback shows every test cell's source, hidden tests included. With
    ``hide_hidden_tests`` the hidden parts are cleared first (tracebacks of failed hidden
    tests can still quote a line).
    """
    course = Path(course).resolve()
    db = db or f"sqlite:///{course / 'gradebook.db'}"
    args = ["generate_feedback", assignment, "--force"]
    if hide_hidden_tests:
        args.append("--GenerateFeedback.preprocessors=['nbgrader.preprocessors.GetGrades',"
                    "'nbgrader.preprocessors.ClearHiddenTests','nbconvert.preprocessors.CSSHTMLHeaderPreprocessor']")
    done = _nbgrader(course, *args, db=db)
    if done.returncode:
        raise RuntimeError(f"nbgrader generate_feedback failed:\n{done.stderr[-2000:]}")
