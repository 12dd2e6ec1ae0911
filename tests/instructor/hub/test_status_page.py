"""The grading service's status page: each student sees their own hand-ins, in words (issue #37).

The page's rendering and the journal it reads are tested here; the hub's OAuth in front of it
is tested with a real hub and browser in ``make test-hub`` (tests/hub).
"""

import re
import time
from html.parser import HTMLParser
from pathlib import Path

from movierec_instructor.hub.queue import Journal
from movierec_instructor.hub.status_page import hand_ins, render
from movierec_instructor.hub.watch import Submission
from movierec_instructor.integrity.untrusted import CSP


def _sub(student: str, n: int, assignment: str = "02_matrix_factorization") -> Submission:
    key = f"{student}+{assignment}+2026-01-01 00:00:{n:02d}.000000 UTC+r{n}"
    return Submission(key, student, assignment, key.split("+")[2], Path("/inbound") / key)


def _journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    for n, student in enumerate(["ana", "ben", "ana", "cy", "ben", "dee"]):
        journal.add(_sub(student, n))
        time.sleep(0.01)  # distinct times seen
    first = journal.next()  # ana's latest (the earlier one is superseded) is graded
    journal.running(first.key, 1, None)
    journal.finish(first.key, "graded", score=2.5)
    second = journal.next()
    journal.running(second.key, 2, None)
    journal.finish(second.key, "not_graded", "the grading kernel cannot start <b>now</b>")
    journal.close()
    return path


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Text:
    parsed = _Text()
    parsed.feed(page)
    return parsed


def test_a_student_sees_their_own_hand_ins_in_words_and_nobody_elses(tmp_path):
    journal = _journal(tmp_path)
    mine = hand_ins(journal, "ana")
    assert [row["student"] for row in mine] == ["ana", "ana"]
    states = sorted(row["state"] for row in mine)
    assert states == ["graded", "superseded"], states
    page = render(mine, "ana", everyone=False)
    text = " ".join(_parse(page).text)
    assert "Graded: 2.5 points." in text and "Replaced by your later hand-in" in text
    assert "ben" not in text and "cy" not in text and "Student" not in text
    others = {row["student"]: row for row in hand_ins(journal, None)}
    waiting = [row for row in hand_ins(journal, None) if row["state"] == "pending"]
    waiting.sort(key=lambda r: r["seen"])
    assert [r["ahead"] for r in waiting] == [0, 1] and waiting[-1]["student"] == "dee"
    assert "Waiting to be graded (1 hand-in before it)." in render(hand_ins(journal, "dee"), "dee", False)
    assert set(others) == {"ana", "ben", "cy", "dee"}


def test_a_machine_fault_is_told_as_kept_not_graded_and_nothing_a_student_wrote_is_markup(tmp_path):
    journal = _journal(tmp_path)
    rows = hand_ins(journal, None)
    faulted = next(row for row in rows if row["state"] == "not_graded")
    page = render([faulted], faulted["student"], everyone=False)
    assert (
        "Kept as you handed it in, not graded yet: the grading kernel cannot start &lt;b&gt;now&lt;/b&gt;"
        in page
    )
    assert "need not hand in again" in page
    hostile = {**faulted, "assignment": "<script>alert(1)</script>", "student": 'x"><img src=x>'}
    page = render([hostile], 'x"><img src=x>', everyone=True)
    assert "<script>" not in page and "<img" not in page
    assert [tag for tag, _ in _parse(page).tags if tag in ("script", "img")] == []


def test_the_page_is_built_for_everyone(tmp_path):
    journal = _journal(tmp_path)
    page = render(hand_ins(journal, None), "teacher", everyone=True)
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert tags.count("h1") == 1 and tags.count("main") == 1 and "caption" in tags
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in parsed.tags if tag == "th")
    assert f'content="{CSP}"' in page and '<html lang="en">' in page
    assert re.search(r"Waiting to be graded\.", page)  # cy's hand-in: nothing waits before it
    empty = render([], "dee", everyone=False)
    assert "No hand-in yet" in empty and "<table" not in empty
