"""Check a notebook before handing it in: run it as grading will, and say what would cost marks.

    python -m movierec_helpers.check notebooks/02_matrix_factorization/02_matrix_factorization.ipynb

The notebook runs top to bottom in a fresh kernel, as nbgrader runs it (shorter training,
no progress bars, each cell with the grading time limit); the visible checks run, the
hidden ones do not exist in a student's copy. The report gives, per graded test cell, the
visible points earned and how many points hidden checks add when graded, and anything else
that would cost marks: an error in a cell that is not graded (the cells after it may then
fail), output on stderr (nbgrader gives 0 to a test cell that writes to stderr), a cell past
the time limit, a test or other locked cell that was edited (grading puts the original
back), a notebook under another name than the one handed out.

The instructor's ``movierec validate`` runs the same check in the grading sandbox.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from movierec_helpers.exercises.explain import ANSI_ESCAPE
from movierec_helpers.tracks import notebook_track

SCORE_LINE = re.compile(r"^[✓✗] .*\((?P<earned>[\d.]+) of (?P<possible>[\d.]+)\)", re.MULTILINE)
CELL_TIMEOUT = 180  # seconds, as c.ExecutePreprocessor.timeout in the course's nbgrader_config.py
RELEASE = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class TestCellResult:
    """What one graded test cell gave."""

    grade_id: str
    points: float
    earned: float
    visible: float
    failed: list[str] = field(default_factory=list)

    @property
    def pending(self) -> float:
        """Points that only hidden checks award (at grading)."""
        return max(self.points - self.visible, 0.0)

    def line(self) -> str:
        plural = "s" if self.visible != 1 else ""
        text = f"{self.grade_id}: {self.earned:g} of {self.visible:g} visible point{plural}"
        if self.pending:
            text += f"; {self.pending:g} more from hidden checks when graded"
        return text


@dataclass
class WrittenAnswer:
    """A question graded by hand (nbgrader's manually graded answer cell)."""

    grade_id: str
    points: float
    where: str
    answered: bool

    def line(self) -> str:
        state = "answered" if self.answered else "NOT ANSWERED"
        plural = "s" if self.points != 1 else ""
        return f"{self.grade_id} ({self.where}): {self.points:g} point{plural} graded by hand; {state}"


@dataclass
class Report:
    """The outcome of a check; ``problems`` is what would cost marks."""

    tests: list[TestCellResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    answers: list[WrittenAnswer] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(t.earned >= t.visible for t in self.tests)

    def text(self) -> str:
        lines = [t.line() for t in self.tests] + [a.line() for a in self.answers]
        earned, visible = sum(t.earned for t in self.tests), sum(t.visible for t in self.tests)
        pending = sum(t.pending for t in self.tests)
        total = f"total: {earned:g} of {visible:g} visible points; {pending:g} more from hidden checks "
        total += "when graded"
        by_hand = sum(a.points for a in self.answers)
        lines.append(total + (f"; {by_hand:g} graded by hand" if by_hand else ""))
        lines += [f"! {p}" for p in self.problems]
        lines.append("ready to hand in" if self.ok else "fix the lines marked ✗ or ! before handing in")
        return "\n".join(lines)


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _track(nb: nbformat.NotebookNode) -> str:
    return notebook_track(nb.get("metadata", {}))


HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)
STUB = "raise NotImplementedError()"
UNANSWERED = "YOUR ANSWER HERE"
NOT_WRITTEN = ("NotImplementedError", "ExerciseNotDone")


def locate(nb: nbformat.NotebookNode, index: int) -> str:
    """Where a student finds cell ``index``: its exercise's name and the heading it sits under.

    JupyterLab shows no cell numbers; its table of contents shows headings. A graded cell is
    named by its id (``top_k_unseen``); any other by its place: ``the 2nd code cell under
    "Exact retrieval"``.
    """
    heading, count = None, 0
    for cell in nb.cells[:index]:
        if cell.cell_type == "markdown":
            titles = HEADING.findall(cell.source)
            if titles:
                heading, count = titles[-1], 0
        elif cell.cell_type == "code":
            count += 1
    under = f'under "{heading}"' if heading else "before the first heading"
    grade_id = _nbgrader(nb.cells[index]).get("grade_id")
    if grade_id:
        return f"{grade_id} ({under})"
    nth = count + 1
    suffix = "th" if 10 <= nth % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(nth % 10, "th")
    return f"the {nth}{suffix} code cell {under}"


def _message(output: dict) -> str:
    """An error's message whole: terminal escapes removed, its lines kept."""
    text = ANSI_ESCAPE.sub("", str(output.get("evalue", ""))).strip()
    return "\n    ".join(line.rstrip() for line in text.splitlines() if line.strip())


def unwritten_exercises(nb: nbformat.NotebookNode) -> list[str]:
    """Exercises whose answer cell still holds the hand-out's ``raise NotImplementedError()``."""
    return [
        f"exercise {locate(nb, i)} is not written yet: replace `{STUB}` with your code"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and _nbgrader(cell).get("solution")
        and not _nbgrader(cell).get("grade")
        and STUB in cell.source
    ]


def written_answers(nb: nbformat.NotebookNode) -> list[WrittenAnswer]:
    """The questions graded by hand, and whether each has an answer yet."""
    found = []
    for i, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        if meta.get("grade") and meta.get("solution"):
            text = cell.source.strip()
            answered = bool(text) and UNANSWERED not in text and STUB not in text
            found.append(
                WrittenAnswer(
                    meta.get("grade_id", f"cell {i}"),
                    float(meta.get("points", 0)),
                    locate(nb, i).split(" (", 1)[-1].rstrip(")"),
                    answered,
                )
            )
    return found


def find_release(
    nb: nbformat.NotebookNode, release_root: Path = RELEASE, name: str | None = None
) -> Path | None:
    """The handed-out notebook with the same graded cells, if this course copy has it.

    Both tracks share their exercises' ids (02 and 02_..._torch): among the notebooks with the
    same graded cells, the one of the same file name wins, then the one of the same track.
    """
    ids = {_nbgrader(c).get("grade_id") for c in nb.cells} - {None}
    matches = []
    for path in sorted(release_root.glob("*/*.ipynb")):
        try:
            released = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - not a notebook: not ours
            continue
        if ids and ids >= {_nbgrader(c).get("grade_id") for c in released.cells} - {None}:
            matches.append((path.name != name, _track(released) != _track(nb), path))
    return min(matches)[2] if matches else None


def static_problems(path: Path, nb: nbformat.NotebookNode, release: Path | None) -> list[str]:
    """A renamed notebook and edited locked cells, compared with the handed-out copy."""
    if release is None:
        return []
    problems = []
    if path.name != release.name:
        problems.append(f"the notebook is named {path.name}; grading expects {release.name} (rename it back)")
    original = {_nbgrader(c).get("grade_id"): c for c in nbformat.read(release, as_version=4).cells}
    for number, cell in enumerate(nb.cells):
        grade_id = _nbgrader(cell).get("grade_id")
        first = original.get(grade_id)
        if first is not None and _nbgrader(first).get("locked") and cell.source != first.source:
            problems.append(
                f"{locate(nb, number)} was edited; it is locked, and grading puts the "
                "original back (undo the change or copy your work to a new cell)"
            )
    return problems


def read_test_cell(cell, number: int) -> TestCellResult | None:
    """The points a graded test cell gave, from its outputs."""
    meta = _nbgrader(cell)
    if not (meta.get("grade") and not meta.get("solution")) or cell.cell_type != "code":
        return None
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    checks = [(float(m["earned"]), float(m["possible"])) for m in SCORE_LINE.finditer(text)]
    points = float(meta.get("points", 0))
    visible = sum(p for _, p in checks) if checks else points
    errored = any(o.get("output_type") == "error" for o in cell.outputs)
    if checks:
        earned = 0.0 if errored else sum(e for e, _ in checks)
    else:  # a plain test cell: all its points if it runs without an error
        earned = 0.0 if errored else points
    failed = _failed_checks(ANSI_ESCAPE.sub("", text))
    return TestCellResult(meta.get("grade_id", f"cell {number}"), points, earned, visible, failed)


def _failed_checks(text: str) -> list[str]:
    """Each failed check's line, with the detail lines printed under it (indented)."""
    failed: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("✗"):
            failed.append(line)
            inside = True
        elif inside and line.startswith("    ") and line.strip():
            failed[-1] += "\n    " + line.strip()
        else:
            inside = False
    return failed


def run_problems(nb: nbformat.NotebookNode, timed_out: int | None, unwritten: bool = False) -> list[str]:
    """Errors outside graded test cells, stderr, and a cell past the time limit.

    With ``unwritten`` (some exercise still raises ``NotImplementedError``, reported at the
    exercise), the cells that fail only because they call it are not reported again.
    """
    problems = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        is_test = meta.get("grade") and not meta.get("solution")
        for output in cell.outputs:
            if output.get("output_type") == "error" and not is_test:
                if output.get("ename") in NOT_WRITTEN and unwritten:
                    continue
                if output.get("ename") in NOT_WRITTEN and not _message(output):
                    problems.append(
                        f"{locate(nb, number)} calls an exercise not written yet "
                        "(it raises NotImplementedError)"
                    )
                else:
                    problems.append(
                        f"{locate(nb, number)} stops with {output.get('ename')}: {_message(output)} "
                        "(grading runs it too)"
                    )
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                what = "nbgrader gives this test cell 0" if is_test else "remove what prints it"
                text = ANSI_ESCAPE.sub("", output.get("text", "")).strip().splitlines()
                problems.append(f"{locate(nb, number)} writes to stderr ({what}): {text[0] if text else ''}")
    if timed_out is not None:
        problems.append(
            f"{locate(nb, timed_out)} ran past the time limit of {CELL_TIMEOUT} s: grading stops it there"
        )
    return problems


def check_notebook(
    path: Path,
    *,
    kernel_name: str = "movierec",
    env: Mapping[str, str] | None = None,
    timeout: int = CELL_TIMEOUT,
    kernel_manager=None,
    release_root: Path = RELEASE,
) -> Report:
    """Runs a notebook as grading will and reports points and problems.

    Args:
        path: the notebook.
        kernel_name: the Jupyter kernel to run it in.
        env: extra environment variables for the kernel.
        timeout: seconds each cell may run.
        kernel_manager: a ``jupyter_client`` kernel manager to use instead of a default one
            (the instructor's sandboxed grading kernel).
        release_root: where the handed-out notebooks are, to compare names and locked cells.

    Returns:
        The :class:`Report`.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    report = Report(problems=static_problems(path, nb, find_release(nb, release_root, path.name)))
    kernel_env = {
        **os.environ,
        "NBGRADER_EXECUTION": "autograde",
        "MOVIEREC_PROGRESS": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(env or {}),
    }
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
        km=kernel_manager,
    )
    running = {}
    client.on_cell_start = lambda cell, cell_index: running.update(index=cell_index)
    timed_out = None
    try:
        # The kernel's own log (TensorFlow's start-up lines) is not the notebook's output.
        client.execute(
            env=kernel_env, cwd=str(path.parent), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except CellTimeoutError:
        timed_out = running.get("index")
    report.tests = [t for i, c in enumerate(nb.cells) if (t := read_test_cell(c, i)) is not None]
    unwritten = unwritten_exercises(nb)
    report.problems += unwritten + run_problems(nb, timed_out, unwritten=bool(unwritten))
    for test in report.tests:
        report.problems += [f"{test.grade_id}: {line}" for line in test.failed]
    report.answers = written_answers(nb)
    report.problems += [
        f"{a.grade_id} ({a.where}) is not answered yet: {a.points:g} point"
        f'{"s" if a.points != 1 else ""} graded by hand; replace "{UNANSWERED}" with your answer'
        for a in report.answers
        if not a.answered
    ]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m movierec_helpers.check", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--kernel", default="movierec", help="Jupyter kernel (default: movierec)")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"No notebook at {args.notebook}: give the path of your .ipynb file.", file=sys.stderr)
        return 2
    report = check_notebook(args.notebook, kernel_name=args.kernel)
    print(report.text())
    return 0 if report.ok else 1
