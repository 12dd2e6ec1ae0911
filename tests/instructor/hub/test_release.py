"""The assignment's registration the grading service makes once and each job copies (issue #37)."""

import nbformat

from movierec_instructor.hub import release
from movierec_instructor.hub.release import registered_gradebook
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
