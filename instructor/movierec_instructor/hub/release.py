"""Putting one graded hand-in into the course and its feedback into the exchange.

The course gradebook gets the student's result merged under the course's lock (the same
merge as batch grading's workers), so ``movierec autograde``, ``movierec export`` and
the LMS exports see one gradebook. The feedback goes where ``nbgrader fetch_feedback``
(the assignment list's "Fetch Feedback") looks for it: ``<exchange>/<course>/feedback/
<hash>.html``, the hash made by nbgrader from the hand-in's ``submission_secret.txt``, which
only the student (and the grader) can read.
"""

from __future__ import annotations

import fcntl
import hashlib
import html
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from movierec_instructor.grading.class_run import merge_gradebook, register, set_due_date
from movierec_instructor.grading.late_policy import load
from movierec_instructor.grading.nbgrader_runner import gradebook_url
from movierec_instructor.hub.watch import SECRET
from movierec_instructor.integrity.untrusted import add_csp

LOCK = ".movierec-hub.lock"
FOLDERS = ("submitted", "autograded", "feedback")


@contextmanager
def course_lock(course: Path):
    """Holds the course's lock (one writer of the gradebook and the course folders at a time)."""
    with open(course / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_assignment(course: Path, assignment: str) -> None:
    """Registers the assignment (its notebooks, cells and due date) in the course gradebook if missing."""
    from nbgrader.api import Gradebook, MissingEntry

    db = gradebook_url(course)
    with Gradebook(db) as gb:
        try:
            if gb.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    register(course, assignment, db)
    set_due_date(db, assignment, load(course))


def registered_gradebook(course: Path, assignment: str, cache: Path) -> Path:
    """A gradebook holding just the assignment as generate_assignment registers it, made once.

    Made in a scratch course and kept in ``cache`` under the hash of what generate_assignment
    reads (the assignment's source folder, ``nbgrader_config.py``, nbgrader's version), so
    changed solutions make a new one. Each job copies it instead of running nbgrader again.
    """
    import nbgrader

    digest = hashlib.sha256(nbgrader.__version__.encode())
    source = course / "solutions" / assignment
    for path in sorted([*source.rglob("*"), course / "nbgrader_config.py"]):
        if path.is_file():
            digest.update(str(path.relative_to(course)).encode() + b"\0" + path.read_bytes() + b"\0")
    target = cache / f"{assignment}-{digest.hexdigest()[:20]}.db"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=cache) as scratch:
                shutil.copytree(source, Path(scratch) / "solutions" / assignment)
                if (course / "nbgrader_config.py").exists():
                    shutil.copy(course / "nbgrader_config.py", scratch)
                register(Path(scratch), assignment, gradebook_url(Path(scratch)))
                os.replace(Path(scratch) / "gradebook.db", target)
    return target


def replace_folder(source: Path, target: Path) -> None:
    """Puts a copy of ``source`` at ``target``, replacing what was there."""
    staged = target.with_name(target.name + ".incoming")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(source, staged, symlinks=True)
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)


def write_public(path: Path, text: str) -> None:
    """Writes a page its student can read, atomically (a student never fetches half a page).

    The folder is made as nbgrader makes it (``rwx--x--x``): anyone may open a page whose
    name they know (the hash of their own hand-in's secret), nobody may list the pages.
    """
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o711)
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(text, encoding="utf-8")
    staged.chmod(0o644)
    os.replace(staged, path)


def feedback_path(feedback_dir: Path, handed_in: Path, notebook_id: str) -> Path:
    """Where fetch_feedback looks for one notebook's feedback of one hand-in."""
    from nbgrader.utils import notebook_hash

    secret = (handed_in / SECRET).read_text()
    return feedback_dir / f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"


def publish(
    course: Path, copy: Path, student: str, assignment: str, handed_in: Path, feedback_dir: Path, db: str
) -> float:
    """Merges the graded copy into the course, releases its feedback; returns the score."""
    from nbgrader.api import Gradebook

    with course_lock(course):
        ensure_assignment(course, assignment)
        merge_gradebook(db, gradebook_url(course), assignment, students={student})
        for folder in FOLDERS:
            source = copy / folder / student / assignment
            if source.is_dir():
                (course / folder / student).mkdir(parents=True, exist_ok=True)
                replace_folder(source, course / folder / student / assignment)
    for page in sorted((copy / "feedback" / student / assignment).glob("*.html")):
        write_public(feedback_path(feedback_dir, handed_in, page.stem), page.read_text(encoding="utf-8"))
    with Gradebook(db) as gb:
        return gb.find_submission(assignment, student).score


def release_not_graded(handed_in: Path, feedback_dir: Path, reason: str, copy: Path, assignment: str) -> None:
    """Tells the student, through Fetch Feedback, that the hand-in is kept but not graded yet, and why."""
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not graded yet</title></head>'
        "<body><main><h1>Your submission is kept, not graded yet</h1>"
        f"<p>The grading machine failed: {html.escape(reason)}.</p>"
        "<p>Your submission is kept exactly as you handed it in and will be graded again; "
        "fetch feedback later. You do not need to submit again.</p></main></body></html>"
    )
    for notebook in sorted((copy / "solutions" / assignment).glob("*.ipynb")):
        write_public(feedback_path(feedback_dir, handed_in, notebook.stem), add_csp(text))
