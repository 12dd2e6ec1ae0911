"""The student hand-out: the course as students get it, without the answers.

The full repository is for self-learners and instructors: it holds ``solutions/`` (every
answer and hidden test) and a helper package whose reference functions answer the graded
exercises (later notebooks reuse them, as d2l's chapters do). What an instructor gives a
class is built from it:

* the released notebooks of the assignments handed out so far (``--through``);
* ``movierec_helpers`` with the reference solution of every graded exercise that is not yet
  due (``--due``) replaced by a function that raises ``NotImplementedError`` saying when it
  ships. A released notebook must never need one of those: the hand-out reads every code
  cell of the notebooks it ships (pre-filled lines inside exercises included) and refuses,
  naming the notebook, the cells, the answers and the ``--due``/``--through`` that would
  work, when a cell uses a withheld answer of another assignment. Each week's hand-out adds
  the answers that just became due;
* the bundled data, the environment files, a student ``Makefile`` (``make lab``,
  ``make test``), the course kernel's installer, and a short README;
* nothing else: no ``solutions/``, no hidden tests, no instructor package, no benchmarks.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import nbformat

from movierec_instructor.course import assignments, course_tracks

STUDENT_MAKEFILE = """\
# movierec (student hand-out): make lab opens the course, make test checks the set-up.
# Without make (Windows): python scripts/course.py lab | notebook | test | check NOTEBOOK
PYTHON ?= python3

.PHONY: setup lab notebook test check

setup:
\t$(PYTHON) scripts/course.py setup

lab:
\t$(PYTHON) scripts/course.py lab

# The same course in Jupyter Notebook 7 (recommended with a screen reader).
notebook:
\t$(PYTHON) scripts/course.py notebook

test:
\t$(PYTHON) scripts/course.py test

# Before handing in: make check NOTEBOOK=notebooks/<assignment>/<assignment>.ipynb
check:
\t$(PYTHON) scripts/course.py check $(NOTEBOOK)
"""

STUDENT_TEST = '''"""Checks a student's set-up: the data loads and every notebook of the hand-out opens."""

from pathlib import Path

import nbformat

from movierec_helpers.data import load_course_data


def test_data_loads():
    data, train, test = load_course_data(seed=42)
    assert (data.num_users, data.num_movies, len(train) + len(test)) == (943, 1682, 100_000)


def test_notebooks_open():
    notebooks = sorted(Path(__file__).resolve().parents[1].glob("notebooks/*/*.ipynb"))
    assert notebooks
    for path in notebooks:
        nbformat.validate(nbformat.read(path, as_version=4))
'''

FRAMEWORKS = {"tensorflow": "TensorFlow", "pytorch": "PyTorch"}
README = """# movierec: recommendation systems with {framework}, on MovieLens (student hand-out)

```bash
make lab     # creates .venv, installs the course, opens JupyterLab on notebooks/
make test    # the same set-up, then checks that data and notebooks are in place
make check NOTEBOOK=notebooks/{example}/{example}.ipynb
             # before handing in: runs your notebook as grading will and says what would cost marks
```

Without `make` (Windows): `py scripts\\course.py lab`, `py scripts\\course.py test`,
`py scripts\\course.py check NOTEBOOK`.

Open `notebooks/<assignment>/<assignment>.ipynb`, replace each `raise NotImplementedError()`
with your code and run the test cell below it. Hand in the notebook as your instructor says.
Answers to exercises that are not yet due are not in this copy of `movierec_helpers`; they
arrive with a later hand-out.
"""


def exercise_assignments(course: Path, track: str | None = None) -> dict[str, str]:
    """``exercise (grade_id) -> assignment`` of every graded solution cell of the course (or one track)."""
    found = {}
    for assignment in assignments(course, track):
        for path in sorted((course / "solutions" / assignment).glob("*.ipynb")):
            for cell in nbformat.read(path, as_version=4).cells:
                nbgrader = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and nbgrader.get("solution"):
                    found.setdefault(nbgrader["grade_id"], assignment)
    return found


def _answered_exercises(node: ast.FunctionDef) -> list[str]:
    """The exercises named by a ``@reference_solution("id", ...)`` decorator of ``node``."""
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", getattr(decorator.func, "attr", None)) == "reference_solution"
        ):
            return [arg.value for arg in decorator.args if isinstance(arg, ast.Constant)]
    return []


def strip_answers(source: str, withheld: dict[str, str]) -> tuple[str, list[str]]:
    """Replaces the bodies of library answers of the exercises in ``withheld``.

    Args:
        source: a module's source.
        withheld: exercise (grade_id) -> the assignment it belongs to.

    Returns:
        The new source and the names of the functions replaced. Signatures and
        docstrings stay.
    """
    tree = ast.parse(source)
    lines = source.split("\n")
    replaced = []
    targets = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            due_later = [e for e in _answered_exercises(node) if e in withheld]
            if due_later:
                targets.append((node, due_later[0]))
    for node, exercise in sorted(targets, key=lambda t: t[0].lineno, reverse=True):
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        first = body[0].lineno - 1 if body else node.body[-1].end_lineno
        indent = " " * (node.body[0].col_offset)
        message = (
            f"{node.name} answers an exercise of {withheld[exercise]}; it ships with the "
            "hand-out after that assignment is due."
        )
        lines[first : node.end_lineno] = [f"{indent}raise NotImplementedError({message!r})"]
        replaced.append(node.name)
    return "\n".join(lines), sorted(replaced)


class HandoutWouldNotRun(ValueError):
    """A released notebook would use a library answer that the hand-out withholds."""


def withheld_functions(package: Path, withheld: dict[str, str]) -> dict[str, str]:
    """``function or method name -> assignment`` of every library answer the hand-out stubs."""
    found = {}
    for module in sorted(Path(package).rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for exercise in _answered_exercises(node):
                    if exercise in withheld:
                        found.setdefault(node.name, withheld[exercise])
    return found


def _library_names_used(source: str) -> set[str]:
    """Names a cell imports from ``movierec_helpers`` or reads as an attribute of one of its modules."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("movierec_helpers"):
            names |= {alias.name for alias in node.names}
            modules |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            modules |= {
                alias.asname or alias.name
                for alias in node.names
                if alias.name.startswith("movierec_helpers")
            }
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            names.add(node.attr)
    return names


def notebook_needs(path: Path, answers: dict[str, str]) -> dict[str, list[int]]:
    """``answer name -> cell numbers`` of the withheld library answers a notebook's cells import.

    A name imported from the library is the library's, even where the notebook's own
    exercise defines a function of that name (the import replaces it); a function the
    student wrote and the cell uses without importing is the student's.
    """
    cells = nbformat.read(path, as_version=4).cells
    needs: dict[str, list[int]] = {}
    for number, cell in enumerate(cells):
        if cell.cell_type == "code":
            for name in _library_names_used(cell.source) & set(answers):
                needs.setdefault(name, []).append(number)
    return needs


def check_handout_runs(
    course: Path, shipped: list[str], answers: dict[str, str], due: str | None, track: str | None = None
) -> None:
    """Refuses a hand-out whose notebooks would need withheld answers; the message says what would work.

    Raises:
        HandoutWouldNotRun: naming each notebook, its cells and the answers they need.
    """
    order = assignments(course, track)
    problems, latest_needed, first_broken = [], -1, None
    for name in shipped:
        for path in sorted((course / "notebooks" / name).glob("*.ipynb")):
            needs = notebook_needs(path, answers)
            for answer, cells in sorted(needs.items()):
                problems.append(
                    f"{name} cell{'s' if len(cells) > 1 else ''} {', '.join(map(str, cells))} "
                    f"use{'s' if len(cells) == 1 else ''} {answer} (an answer of {answers[answer]})"
                )
                latest_needed = max(latest_needed, order.index(answers[answer]))
            if needs and first_broken is None:
                first_broken = name
    if problems:
        earlier = order[order.index(first_broken) - 1] if order.index(first_broken) > 0 else None
        fixes = [f"--due {order[latest_needed]}"] + ([f"--through {earlier}"] if earlier else [])
        raise HandoutWouldNotRun(
            "This hand-out would not run: "
            + "; ".join(problems)
            + f". Those answers are withheld until their "
            f"assignment is due (--due {due or 'the assignment before --through'}), so these cells would "
            "stop "
            f"with NotImplementedError. Hand out with {' or '.join(fixes)}."
        )


def build_handout(
    course: Path, out: Path, *, through: str, due: str | None = None, track: str | None = None
) -> dict[str, list[str]]:
    """Writes the student hand-out of one track into ``out``.

    Args:
        course: the full course repository.
        out: an empty or missing folder.
        through: the last assignment handed out (its notebooks and all earlier ones of the
            track ship).
        due: the last assignment whose answers may ship (default: the one before ``through``).
        track: ``"tensorflow"`` or ``"pytorch"`` (default: the course's first track); the
            hand-out's ``course.toml`` names it, so its ``make lab`` installs that track.

    Returns:
        ``{"notebooks": [...], "withheld": [...]}``: what shipped and which functions were stubbed.

    Raises:
        ValueError: unknown assignment, or ``out`` is not empty.
        HandoutWouldNotRun: a shipped notebook uses an answer the hand-out withholds
            (nothing is written).
    """
    course, out = Path(course).resolve(), Path(out)
    track = track or course_tracks(course)[0]
    order = assignments(course, track)
    for name in (through, due):
        if name is not None and name not in order:
            raise ValueError(f"Unknown assignment {name!r}; the {track} track has {', '.join(order)}.")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty; give a new folder for the hand-out.")
    shipped = order[: order.index(through) + 1]
    due_index = order.index(due) if due else order.index(through) - 1
    withheld = {e: a for e, a in exercise_assignments(course, track).items() if order.index(a) > due_index}
    check_handout_runs(course, shipped, withheld_functions(course / "movierec_helpers", withheld), due, track)

    out.mkdir(parents=True, exist_ok=True)
    for name in shipped:
        shutil.copytree(
            course / "notebooks" / name,
            out / "notebooks" / name,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
        )
    shutil.copytree(
        course / "movierec_helpers",
        out / "movierec_helpers",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    stubbed = []
    for module in sorted((out / "movierec_helpers").rglob("*.py")):
        new, names = strip_answers(module.read_text(), withheld)
        if names:
            module.write_text(new)
            stubbed += names
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(course / name, out / name)
    environment = (course / "environment.yml").read_text()
    (out / "environment.yml").write_text(
        "\n".join(line for line in environment.split("\n") if "./instructor" not in line)
    )
    (out / "scripts").mkdir()
    for script in ("course.py", "install_kernel.py", "lab_settings.py"):
        shutil.copy(course / "scripts" / script, out / "scripts" / script)
    (out / "tests").mkdir()
    (out / "tests" / "test_setup.py").write_text(STUDENT_TEST)
    (out / "Makefile").write_text(STUDENT_MAKEFILE)
    (out / "course.toml").write_text(
        f'# This hand-out\'s track: `make lab` installs and opens it.\ntracks = ["{track}"]\n'
    )
    (out / "README.md").write_text(README.format(framework=FRAMEWORKS.get(track, track), example=shipped[-1]))
    return {"notebooks": shipped, "withheld": sorted(stubbed)}
