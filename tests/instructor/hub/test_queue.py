"""The grading service's journal and fair queue, and the exchange watcher (no grading: fast)."""

import os
from pathlib import Path

from movierec_instructor.hub.queue import Journal
from movierec_instructor.hub.service import Settings, recover, settle, take_batch
from movierec_instructor.hub.watch import Submission, owner, scan


def _sub(student: str, n: int, assignment: str = "a1") -> Submission:
    key = f"{student}+{assignment}+2026-01-01 00:00:{n:02d}.000000 UTC+r{n}"
    return Submission(key, student, assignment, key.split("+")[2], Path("/inbound") / key)


def _drain(journal: Journal) -> list[str]:
    order = []
    while (job := journal.next()) is not None:
        order.append(job.student)
        journal.finish(job.key, "graded", score=1.0)
    return order


def test_ten_hand_ins_of_one_student_delay_nobody_and_only_the_latest_is_graded(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    for n in range(10):
        journal.add(_sub("eager", n))
    journal.add(_sub("calm", 20))
    journal.add(_sub("late", 30))
    first = journal.next()
    assert first.key == _sub("eager", 9).key  # the nine earlier ones are superseded
    second, third = journal.next(), journal.next()
    assert {second.student, third.student} == {"calm", "late"}
    assert journal.next() is None  # one job per student at a time, nothing else pending
    states = journal.states()
    assert sum(s == "superseded" for s in states.values()) == 9


def test_round_robin_serves_the_student_served_least_recently(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.add(_sub("a", 1))
    assert _drain(journal) == ["a"]
    journal.add(_sub("a", 2))  # a again, before b's first
    journal.add(_sub("b", 3))
    assert _drain(journal) == ["b", "a"]


def test_a_hand_in_is_recorded_once_and_a_new_one_during_grading_waits(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    assert journal.add(_sub("a", 1)) and not journal.add(_sub("a", 1))
    job = journal.next()
    journal.add(_sub("a", 2))
    assert journal.next() is None  # a's first is still being graded
    journal.finish(job.key, "graded", score=2.0)
    assert journal.next().key == _sub("a", 2).key
    assert journal.count(job.key, "graded") == 1


def test_recovery_grades_interrupted_jobs_again_unless_published(tmp_path):
    settings = Settings(course=tmp_path / "course", exchange=tmp_path / "x", course_id="c", state=tmp_path)
    journal = Journal(tmp_path / "j.sqlite")
    for n, student in enumerate(("cut", "published", "fault")):
        journal.add(_sub(student, n))
    jobs = {j.student: j for j in (journal.next(), journal.next(), journal.next())}
    journal.finish(jobs["fault"].key, "not_graded", "the grading kernel cannot start")
    done = tmp_path / "jobs" / jobs["published"].key
    done.mkdir(parents=True)
    (done / "result.json").write_text('{"state": "graded", "score": 2.0, "published": true}')
    reopened = Journal(tmp_path / "j.sqlite")  # a new service on the same journal
    recover(reopened, settings)
    states = reopened.states()
    assert states[jobs["cut"].key] == "pending" and states[jobs["fault"].key] == "pending"
    assert states[jobs["published"].key] == "graded"
    assert reopened.count(jobs["published"].key, "graded") == 1


def test_waiting_hand_ins_of_one_assignment_are_taken_together_one_per_student(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    for n, student in enumerate(("a", "b", "c", "d", "e")):
        journal.add(_sub(student, n))
    journal.add(_sub("a", 9))  # a's later hand-in supersedes the first
    journal.add(_sub("f", 10, assignment="a2"))
    batch = take_batch(journal, 3)  # in the order they were seen (a's latest came last)
    assert [j.student for j in batch] == ["b", "c", "d"] and {j.assignment for j in batch} == {"a1"}
    rest = take_batch(journal, 3)
    assert [j.student for j in rest] == ["e", "a"]  # a2's hand-in never joins a1's job
    assert rest[1].key == _sub("a", 9).key
    assert [j.student for j in take_batch(journal, 3)] == ["f"]
    assert take_batch(journal, 3) == []


def test_a_hand_in_whose_job_died_is_graded_alone_then(tmp_path):
    settings = Settings(course=tmp_path / "course", exchange=tmp_path / "x", course_id="c", state=tmp_path)
    journal = Journal(tmp_path / "j.sqlite")
    for n, student in enumerate(("crash", "b", "c")):
        journal.add(_sub(student, n))
    batch = take_batch(journal, 2)
    for job in batch:  # the job died: no result for either
        settle(journal, settings, job, -9)
    # c was never served: first. Its job takes only first tries, so neither retried hand-in joins it.
    assert [j.student for j in take_batch(journal, 3)] == ["c"]
    retried = take_batch(journal, 3)
    assert [j.student for j in retried] == ["crash"] and retried[0].attempts == 2  # alone
    assert [j.student for j in take_batch(journal, 3)] == ["b"]


def _inbound(tmp_path: Path, name: str, complete: bool = True) -> Path:
    folder = tmp_path / "inbound" / name
    folder.mkdir(parents=True)
    (folder / "a1.ipynb").write_text("{}")
    if complete:
        (folder / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text("s")
    return folder


def test_the_watcher_skips_unfinished_copies_and_names_that_are_not_ids(tmp_path):
    _inbound(tmp_path, "s1+a1+2026-01-01 00:00:00.000000 UTC+abc")
    _inbound(tmp_path, "s2+a1+2026-01-01 00:00:00.000000 UTC+abc", complete=False)
    _inbound(tmp_path, "..+a1+2026+x")
    _inbound(tmp_path, "s3+a/1+2026+x".replace("/", "_") + "+too+many")
    found, refused = scan(tmp_path / "inbound", check_owner=False)
    assert [s.student for s in found] == ["s1"] and refused == []
    assert found[0].timestamp == "2026-01-01 00:00:00.000000 UTC"


def test_the_watcher_refuses_a_hand_in_owned_by_another_user(tmp_path):
    me = owner(tmp_path)
    _inbound(tmp_path, f"{me}+a1+2026-01-01 00:00:00.000000 UTC+abc")
    other = "someone-else" if me != "someone-else" else "another"
    _inbound(tmp_path, f"{other}+a1+2026-01-01 00:00:00.000000 UTC+abc")
    found, refused = scan(tmp_path / "inbound", check_owner=True)
    assert [s.student for s in found] == [me]
    assert [key.split("+")[0] for key, _why in refused] == [other]
    assert os.path.exists(tmp_path / "inbound")
