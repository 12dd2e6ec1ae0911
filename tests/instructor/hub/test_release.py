"""The assignment's registration the grading service makes once and each job copies (issue #37)."""

import json
import shutil

import nbformat
import pytest

from movierec_instructor.course import write_submission
from movierec_instructor.grading.autograde import autograde
from movierec_instructor.grading.nbgrader_runner import gradebook_url
from movierec_instructor.hub import job, release
from movierec_instructor.hub.release import registered_gradebook
from movierec_instructor.hub.watch import SECRET
from tests.instructor.grading.test_cluster import _notebook
from tests.toy_course import toy_course

ASSIGNMENT = "planted"


def _registered(path):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}") as gb:
        assignment = gb.find_assignment(ASSIGNMENT)
        return [nb.name for nb in assignment.notebooks], len(assignment.submissions)


def test_the_registration_is_made_once_and_again_when_the_solutions_change(tmp_path, monkeypatch):
    course, cache = tmp_path / "course", tmp_path / "cache"
    toy_course(course, ASSIGNMENT, _notebook())
    first = registered_gradebook(course, ASSIGNMENT, cache)
    assert _registered(first) == ([ASSIGNMENT], 0)

    def no_nbgrader(*_args, **_kwargs):
        raise AssertionError("generate_assignment ran again for unchanged solutions")

    with monkeypatch.context() as patch:
        patch.setattr(release, "register", no_nbgrader)
        assert registered_gradebook(course, ASSIGNMENT, cache) == first

    source = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("One more paragraph."))
    nbformat.write(nb, source)
    second = registered_gradebook(course, ASSIGNMENT, cache)
    assert second != first
    assert _registered(second) == ([ASSIGNMENT], 0)


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_late_hand_in_graded_from_the_registration_loses_what_batch_grading_takes(tmp_path):
    """Due dates and extensions hold when the job copies the cached registration (no generate)."""
    course = tmp_path / "course"
    toy_course(course, ASSIGNMENT, _notebook())
    (course / "deadlines.toml").write_text(
        '[late_policy]\npenalty_percent = 10\nper = "day"\nmax_penalty_percent = 50\n\n'
        f"[due]\n{ASSIGNMENT} = 2026-01-01T00:00:00+00:00\n"
    )
    extension = f"student,assignment,extra_hours,due,note\next,{ASSIGNMENT},48,,\n"
    (course / "extensions.csv").write_text(extension)
    stamp = "2026-01-03 12:00:00.000000 UTC"  # 2.5 days late; 0.5 with the extension
    for student in ("late", "ext"):
        handed_in = tmp_path / "inbound" / student
        solution = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        write_submission(solution, handed_in / f"{ASSIGNMENT}.ipynb")
        (handed_in / "timestamp.txt").write_text(stamp)
        (handed_in / SECRET).write_text(student * 20)
        args = job.parser().parse_args(
            ["--course", str(course), "--job", str(tmp_path / "jobs" / student),
             "--hand-in", student, str(handed_in), str(tmp_path / "jobs" / student / "result.json"),
             "--feedback-dir", str(tmp_path / "feedback"),
             "--assignment", ASSIGNMENT, "--gradebooks", str(tmp_path / "gradebooks")]
        )  # fmt: skip
        assert job.grade(args)[student]["state"] == "graded"
        assert json.loads((tmp_path / "jobs" / student / "result.json").read_text())["published"]
    batch = tmp_path / "batch"
    shutil.copytree(course, batch, ignore=shutil.ignore_patterns("gradebook.db", "autograded", "feedback"))
    autograde(batch, ASSIGNMENT)
    graded, expected = _penalties(course), _penalties(batch)
    assert graded == expected
    assert graded["late"][1] > graded["ext"][1] > 0


def _penalties(course):
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(course)) as gb:
        submissions = {s: gb.find_submission(ASSIGNMENT, s) for s in ("late", "ext")}
        return {s: (sub.score, sub.late_submission_penalty) for s, sub in submissions.items()}
