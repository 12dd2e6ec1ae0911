"""Due dates, the late policy and extensions, applied where nbgrader applies late penalties.

The course directory holds them (both optional; without ``deadlines.toml`` nothing is late):

``deadlines.toml``::

    timezone = "Europe/Berlin"          # for LMS file times, which carry no zone (default UTC)

    [late_policy]
    penalty_percent = 10                # of the student's score, per started unit late
    per = "day"                         # or "hour"
    grace_minutes = 15                  # up to this late: no penalty at all
    max_penalty_percent = 50            # the cap

    [due]
    02_matrix_factorization = 2026-12-01T23:59:00+01:00

``extensions.csv`` (extensions and accommodations)::

    student,assignment,extra_hours,due,note
    alice,02_matrix_factorization,48,,accommodation
    bob,02_matrix_factorization,,2026-12-05T12:00:00+01:00,illness

nbgrader computes how late a submission is from its ``timestamp.txt`` (written by
``movierec collect`` from the LMS download) and the assignment's due date in the gradebook
(set by ``movierec autograde`` from ``deadlines.toml``); then its ``AssignLatePenalties`` step
asks :class:`CourseLatePolicy` for the penalty. The penalty is a share of the score, so it
never makes a score negative, and a late blank stays 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from nbgrader.plugins import LateSubmissionPlugin

DEADLINES = "deadlines.toml"
EXTENSIONS = "extensions.csv"
UNITS = {"hour": 3600, "day": 86400}


class DeadlineError(ValueError):
    """``deadlines.toml`` or ``extensions.csv`` cannot be used as written (the message says where)."""


@dataclass(frozen=True)
class Policy:
    """The course's late policy."""

    penalty_percent: float = 0.0
    per: str = "day"
    grace_minutes: float = 0.0
    max_penalty_percent: float = 100.0

    def percent(self, seconds_late: float) -> float:
        """The penalty, in percent of the score, for a submission this many seconds late."""
        if seconds_late <= self.grace_minutes * 60:
            return 0.0
        units = math.ceil(seconds_late / UNITS[self.per])
        return min(self.max_penalty_percent, units * self.penalty_percent)


@dataclass
class Deadlines:
    """Due dates (UTC), the policy, the zone of LMS file times, and per-student extensions."""

    due: dict[str, dt.datetime] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    timezone: str = "UTC"
    extensions: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)  # -> (seconds, note)

    def seconds_late(self, student: str, assignment: str, submitted: dt.datetime) -> float:
        """How late, extensions included (0 when on time or no due date)."""
        due = self.due.get(assignment)
        if due is None:
            return 0.0
        extra = self.extensions.get((student, assignment), (0.0, ""))[0]
        return max(0.0, (as_utc(submitted) - due).total_seconds() - extra)

    def local_to_utc(self, naive: dt.datetime) -> dt.datetime:
        """An LMS file time (no zone) read in the course's zone, as UTC."""
        return naive.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A time as aware UTC (a naive one is taken as UTC, as nbgrader stores times)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _when(value: object, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise DeadlineError(
                f"{where}: {value!r} is not a date and time like 2026-12-01T23:59:00+01:00"
            ) from None
    if moment.tzinfo is None:
        raise DeadlineError(f"{where}: {value!r} has no time zone; write it like 2026-12-01T23:59:00+01:00")
    return moment.astimezone(dt.UTC)


def load(course: Path) -> Deadlines:
    """Reads ``deadlines.toml`` and ``extensions.csv`` of a course (both optional).

    Raises:
        DeadlineError: a date without a zone, an unknown unit or zone, a bad number, an
            extension without hours or date, or one for an assignment with no due date.
    """
    course = Path(course)
    deadlines = Deadlines()
    path = course / DEADLINES
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DeadlineError(f"{path}: {exc}") from None
        deadlines.timezone = str(data.get("timezone", "UTC"))
        try:
            ZoneInfo(deadlines.timezone)
        except Exception:  # noqa: BLE001 - zoneinfo raises several kinds for a bad key
            raise DeadlineError(
                f"{path}: unknown timezone {deadlines.timezone!r} (e.g. 'UTC', 'Europe/Berlin')"
            ) from None
        rules = data.get("late_policy", {})
        try:
            deadlines.policy = Policy(
                float(rules.get("penalty_percent", 0)),
                str(rules.get("per", "day")),
                float(rules.get("grace_minutes", 0)),
                float(rules.get("max_penalty_percent", 100)),
            )
        except (TypeError, ValueError):
            raise DeadlineError(f"{path}: [late_policy] needs numbers for its percents and minutes") from None
        if deadlines.policy.per not in UNITS:
            raise DeadlineError(f"{path}: [late_policy] per = {deadlines.policy.per!r}; use 'hour' or 'day'")
        deadlines.due = {
            name: _when(value, f"{path} [due] {name}") for name, value in data.get("due", {}).items()
        }
    path = course / EXTENSIONS
    if path.exists():
        with open(path, newline="", encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                where = f"{path} line {line}"
                student, assignment = (
                    (row.get("student") or "").strip(),
                    (row.get("assignment") or "").strip(),
                )
                if assignment not in deadlines.due:
                    raise DeadlineError(f"{where}: {assignment!r} has no due date in {DEADLINES}")
                hours, due = (row.get("extra_hours") or "").strip(), (row.get("due") or "").strip()
                if due:
                    seconds = (_when(due, where) - deadlines.due[assignment]).total_seconds()
                elif hours:
                    try:
                        seconds = float(hours) * 3600
                    except ValueError:
                        raise DeadlineError(f"{where}: extra_hours {hours!r} is not a number") from None
                else:
                    raise DeadlineError(f"{where}: give extra_hours or a new due date")
                deadlines.extensions[(student, assignment)] = (seconds, (row.get("note") or "").strip())
    return deadlines


def describe(seconds_late: float, percent: float) -> str:
    """``submitted 26 h late: -10%`` (or within the grace period)."""
    hours = seconds_late / 3600
    late = f"{hours:.0f} h" if hours >= 1 else f"{seconds_late / 60:.0f} min"
    return (
        f"submitted {late} late: -{percent:g}%"
        if percent
        else f"submitted {late} late: within the grace period"
    )


class CourseLatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for ``deadlines.toml`` and ``extensions.csv``.

    nbgrader calls it from its ``AssignLatePenalties`` step, in the course folder it grades,
    with the seconds between the submission and the assignment's due date.
    """

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float | None:
        assignment = getattr(self.parent, "assignment_id", "")
        deadlines = load(Path.cwd())
        extra = deadlines.extensions.get((student_id, assignment), (0.0, ""))[0]
        percent = deadlines.policy.percent(max(0.0, total_seconds_late - extra))
        return round(score * percent / 100, 6)
