"""Finds the submissions students hand in through nbgrader's exchange (``<root>/<course>/inbound``).

``nbgrader submit`` (the assignment list's Submit button) copies the student's folder to
``inbound/<student>+<assignment>+<timestamp>+<random>`` with ``timestamp.txt`` and
``submission_secret.txt``. The folder name is written by the student's own process, so it
is untrusted: a name that is not a valid student and assignment id is skipped, and on a hub
where each student is a Unix user the folder's owner must be the student it names (one
student cannot hand in as another).
"""

from __future__ import annotations

import os
import pwd
import re
from dataclasses import dataclass
from pathlib import Path

from movierec_instructor.integrity.untrusted import is_student_id

ASSIGNMENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
SECRET = "submission_secret.txt"
TIMESTAMP = "timestamp.txt"


@dataclass(frozen=True)
class Submission:
    """One hand-in found in the exchange's inbound folder."""

    key: str  # the inbound folder's name: unique per hand-in
    student: str
    assignment: str
    timestamp: str
    folder: Path


def parse(folder: Path) -> Submission | None:
    """The submission in a folder of ``inbound/``; None while incomplete, or if the name is not one."""
    parts = folder.name.split("+")
    if len(parts) not in (3, 4):
        return None
    student, assignment = parts[0], parts[1]
    if not is_student_id(student) or not ASSIGNMENT_ID.match(assignment):
        return None
    # nbgrader writes the timestamp and the secret last: without them the copy is not finished.
    try:
        timestamp = (folder / TIMESTAMP).read_text(encoding="utf-8").strip()[:64]
        if not (folder / SECRET).is_file():
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return Submission(folder.name, student, assignment, timestamp, folder)


def owner(path: Path) -> str | None:
    """The Unix user who owns ``path`` (None if unknown)."""
    try:
        return pwd.getpwuid(path.lstat().st_uid).pw_name
    except (KeyError, OSError):
        return None


def scan(inbound: Path, check_owner: bool = True) -> tuple[list[Submission], list[tuple[str, str]]]:
    """Every complete submission in ``inbound``, and the folders refused with why.

    Args:
        inbound: the exchange's ``<root>/<course_id>/inbound`` folder.
        check_owner: refuse a folder not owned by the student it names (on a hub where each
            student is a Unix user; off where one user submits for everyone, as in tests).
    """
    found, refused = [], []
    try:
        entries = sorted(os.scandir(inbound), key=lambda e: e.name)
    except FileNotFoundError:
        return [], []
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        submission = parse(Path(entry.path))
        if submission is None:
            continue
        if check_owner and owner(submission.folder) != submission.student:
            refused.append(
                (entry.name, f"handed in by {owner(submission.folder)!r}, not by the student named")
            )
            continue
        found.append(submission)
    return found, refused
