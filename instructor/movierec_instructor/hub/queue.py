"""The grading service's durable journal and its fair queue (SQLite, one file).

Every submission found is recorded once (by its inbound folder's name) and moves
``pending -> grading -> graded | not_graded`` (or ``superseded`` by a later hand-in of the
same student and assignment, or ``refused``). Each change is committed before the service
acts on it, so a service killed at any point restarts from the journal: a submission left
``grading`` is graded again (its job's own results are reused when it had finished), and
nothing is graded twice or forgotten.

Fairness: only the latest pending hand-in of a student and assignment is graded, a
student has at most one grading job at a time, and the next job goes to the student
served least recently (round-robin), so ten submissions from one student delay nobody else.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from movierec_instructor.hub.watch import Submission

SCHEMA = """
create table if not exists submissions (
    key text primary key, student text not null, assignment text not null, timestamp text,
    folder text not null, state text not null, seen real not null, started real, finished real,
    attempts integer not null default 0, pgid integer, kernel text, reason text, score real
);
create table if not exists events (at real not null, key text not null, event text not null, detail text);
"""
OPEN = ("pending", "grading")


@dataclass(frozen=True)
class Job:
    """A submission the service grades now."""

    key: str
    student: str
    assignment: str
    folder: Path
    attempts: int


class Journal:
    """The service's journal; every method commits before it returns."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Closes the database."""
        self.db.close()

    def _event(self, key: str, event: str, detail: str = "") -> None:
        self.db.execute("insert into events values (?, ?, ?, ?)", (time.time(), key, event, detail))

    def add(self, submission: Submission) -> bool:
        """Records a new hand-in (pending); False if it was known already."""
        with self.db:
            done = self.db.execute(
                "insert or ignore into submissions "
                "(key, student, assignment, timestamp, folder, state, seen) "
                "values (?, ?, ?, ?, ?, 'pending', ?)",
                (
                    submission.key,
                    submission.student,
                    submission.assignment,
                    submission.timestamp,
                    str(submission.folder),
                    time.time(),
                ),
            )
            if done.rowcount:
                self._event(submission.key, "seen")
        return bool(done.rowcount)

    def refuse(self, key: str, reason: str) -> None:
        """Records a folder the service will not grade, once."""
        with self.db:
            done = self.db.execute(
                "insert or ignore into submissions (key, student, assignment, folder, state, seen, reason) "
                "values (?, '?', '?', '', 'refused', ?, ?)",
                (key, time.time(), reason),
            )
            if done.rowcount:
                self._event(key, "refused", reason)

    def interrupted(self) -> list[tuple[str, int | None, str | None]]:
        """``(key, process group, kernel)`` of the jobs a killed service left ``grading``."""
        return list(self.db.execute("select key, pgid, kernel from submissions where state = 'grading'"))

    def requeue(self, key: str, why: str) -> None:
        """Puts a submission back in the queue (its job was interrupted, or the machine failed it)."""
        with self.db:
            self.db.execute("update submissions set state = 'pending', pgid = null where key = ?", (key,))
            self._event(key, "requeued", why)

    def _supersede(self) -> None:
        """Marks every pending hand-in that a later one of the same student and assignment replaces."""
        stale = self.db.execute(
            "select a.key from submissions a join submissions b on a.student = b.student "
            "and a.assignment = b.assignment and b.state in ('pending', 'grading', 'graded') "
            "and (b.timestamp > a.timestamp or (b.timestamp = a.timestamp and b.key > a.key)) "
            "where a.state = 'pending'"
        ).fetchall()
        for (key,) in stale:
            self.db.execute("update submissions set state = 'superseded' where key = ?", (key,))
            self._event(key, "superseded")

    def next(self, assignment: str | None = None, first_try: bool = False) -> Job | None:
        """Starts the fairest pending job: latest hand-in only, one job per student, least recently served.

        Args:
            assignment: only a hand-in of this assignment (to join a job grading several).
            first_try: only a hand-in never started before (one that a job ended without a
                result is graded alone: it cannot take others down with it).
        """
        with self.db:
            self._supersede()
            row = self.db.execute(
                "select s.key, s.student, s.assignment, s.folder, s.attempts from submissions s "
                "where s.state = 'pending' and not exists (select 1 from submissions g "
                "  where g.student = s.student and g.state = 'grading') "
                "and (? is null or s.assignment = ?) and (not ? or s.attempts = 0) "
                "order by (select coalesce(max(d.started), 0) from submissions d "
                "  where d.student = s.student), "
                "s.seen limit 1",
                (assignment, assignment, first_try),
            ).fetchone()
            if row is None:
                return None
            self.db.execute(
                "update submissions set state = 'grading', started = ?, attempts = attempts + 1 "
                "where key = ?",
                (time.time(), row[0]),
            )
            self._event(row[0], "started")
        return Job(row[0], row[1], row[2], Path(row[3]), row[4] + 1)

    def running(self, key: str, pgid: int, kernel: str | None) -> None:
        """Records the job's process group and warm kernel (a restarted service stops them)."""
        with self.db:
            self.db.execute("update submissions set pgid = ?, kernel = ? where key = ?", (pgid, kernel, key))

    def finish(self, key: str, state: str, reason: str = "", score: float | None = None) -> None:
        """Ends a job: ``graded`` (with its score) or ``not_graded`` (with the reason)."""
        with self.db:
            self.db.execute(
                "update submissions set state = ?, finished = ?, reason = ?, score = ?, pgid = null "
                "where key = ?",
                (state, time.time(), reason, score, key),
            )
            self._event(key, state, reason)

    def states(self) -> dict[str, str]:
        """key -> state, for every submission recorded."""
        return dict(self.db.execute("select key, state from submissions"))

    def count(self, key: str, event: str) -> int:
        """How many times ``event`` happened to ``key`` (``graded`` must be at most 1)."""
        return self.db.execute(
            "select count(*) from events where key = ? and event = ?", (key, event)
        ).fetchone()[0]

    def waiting(self) -> int:
        """Hand-ins waiting for a job (pending)."""
        return self.db.execute("select count(*) from submissions where state = 'pending'").fetchone()[0]

    def pending(self) -> int:
        """Submissions still pending or being graded."""
        return self.db.execute(
            "select count(*) from submissions where state in ('pending', 'grading')"
        ).fetchone()[0]
