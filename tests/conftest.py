import importlib.util
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("MOVIEREC_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Tests of both tracks share this process: PyTorch's compiler (triton) must load before
# TensorFlow, or it crashes the process (see movierec_helpers.models.torch.cfmodel).
if importlib.util.find_spec("torch") is not None:
    import movierec_helpers.models.torch.cfmodel  # noqa: F401


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: executes notebooks or runs nbgrader")
    config.addinivalue_line("markers", "sandbox: grades in the OS sandbox (Linux with user namespaces)")
    config.addinivalue_line(
        "markers", "alone: runs after the parallel tests, with no other test beside it (make test)"
    )


def _sandbox_missing() -> str | None:
    try:
        from movierec_instructor.integrity.sandbox import check_available

        check_available()
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be made here
        return " ".join(str(exc).split())[:300]
    return None


# The files that take minutes (CI's --durations). Run on several workers (make test), each file
# stays on one worker; starting these first keeps one worker from being left with a long file
# while the others have finished.
LONGEST_FIRST = (
    "tests/course/test_course.py",
    "tests/course/test_check_agrees_with_grade.py",
    "tests/instructor/grading/test_cluster.py",
    "tests/instructor/integrity/test_grading_tamper.py",
    "tests/instructor/integrity/test_hostile_ingest.py",
    "tests/instructor/course/test_handout.py",
    "tests/instructor/hub/test_release.py",
    "tests/instructor/lms/test_lms_round_trip.py",
    "tests/instructor/stats/test_grading_insights.py",
)


def _start_rank(item) -> int:
    path = item.nodeid.split("::")[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config, items):
    """Starts the longest files first; skips the tests that grade in the sandbox, with the reason, where
    no sandbox can be made (macOS, Windows)."""
    items.sort(key=_start_rank)  # stable: the order within a file and among the rest is kept
    needing = [item for item in items if item.get_closest_marker("sandbox")]
    why = _sandbox_missing() if needing else None
    if why:
        for item in needing:
            item.add_marker(
                pytest.mark.skip(reason=f"needs the grading sandbox, which cannot be made here: {why}")
            )


@pytest.fixture(scope="session")
def ml100k():
    from movierec_helpers.data import load_movielens

    return load_movielens()


NAME = "01_exploring_movielens"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
# A typical mistake: fewest ratings first.
WRONG_MOST_RATED = (
    "def most_rated(ratings, movies, n=10):\n"
    '    stats = ratings.groupby("movie_id")["rating"].agg(["count", "mean"]).reset_index()\n'
    '    stats = stats.rename(columns={"count": "rating count", "mean": "rating mean"})\n'
    '    table = stats.merge(movies[["movie_id", "title"]], on="movie_id")\n'
    '    table = table.sort_values(["rating count", "movie_id"], ascending=[True, True])\n'
    '    return table[["title", "rating count", "rating mean"]].head(n).reset_index(drop=True)\n'
)


def _student_copy_of(
    folder: Path, *, answers: bool = True, replace: dict | None = None, name: str = NAME
) -> Path:
    """The released notebook, its exercises answered as a student would (the solutions' code)."""
    solved = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nbformat.read(ROOT / "solutions" / NAME / f"{NAME}.ipynb", as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(ROOT / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and grade_id in solved:
            cell.source = "\n".join(
                line for line in solved[grade_id].splitlines() if line.strip() not in MARKERS
            )
        if replace and grade_id in replace:
            cell.source = replace[grade_id]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def student_copy():
    """Writes the released notebook 01 with a student's answers (see :func:`_student_copy_of`)."""
    return _student_copy_of


@pytest.fixture
def wrong_most_rated():
    """A typical mistake in notebook 01's first exercise: fewest ratings first."""
    return WRONG_MOST_RATED
