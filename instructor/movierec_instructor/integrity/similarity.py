"""A similarity report for a human: which answers look copied, from whom or from the answers.

For each graded solution cell of an assignment, every student's code is compared with every
other student's and with the reference code (the ``solutions/`` cell and the library's own
implementation of the function, ``@reference_solution`` in ``movierec_helpers``). The
comparison is MOSS's: the code is tokenized and normalized (names, literals, comments and
whitespace do not matter), k-grams of tokens are hashed, and winnowing keeps a robust
sample of fingerprints (`copydetect <https://pypi.org/project/copydetect/>`_, a maintained
implementation of Schleimer, Wilkerson and Aiken's algorithm; hand-normalizing with
``tokenize``/``ast`` would re-implement what it already does). Renamed variables, changed
comments and whitespace leave the fingerprints as they are; reordered independent lines
keep the fingerprints within each line. The code the release gives (the stub, the
signature, the docstring) is boilerplate: its fingerprints never count as overlap.

The score of a pair is the larger of the two shares of overlapping code. It changes no
grade; short answers (three lines) share idioms by nature, so read the pairs, not the number.
"""

from __future__ import annotations

import difflib
import html
import importlib
import importlib.util
import inspect
import io
import itertools
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from movierec_helpers.exercises.graded import EXERCISE_OF_FUNCTION
from movierec_helpers.exercises.reference import library_answers
from movierec_helpers.tracks import FRAMEWORK_MODULES, SHARED, module_track
from movierec_instructor.integrity.report_page import Html, page, table
from movierec_instructor.integrity.untrusted import write_csv as write_csv_file

NOISE = 12  # k: fingerprints cover this many characters of normalized code
WINDOW = 4  # winnowing window (guarantee threshold = NOISE + WINDOW - 1)
DEFAULT_THRESHOLD = 0.6
MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


@dataclass(frozen=True)
class Match:
    """One compared pair of codes for one exercise."""

    exercise: str
    kind: str  # "pair" (two students) or "reference" (a student and a reference code)
    first: str
    second: str
    score: float
    first_lines: list[int]
    second_lines: list[int]
    first_html: str
    second_html: str


def solution_cells(path: Path) -> dict[str, str]:
    """``grade_id -> source`` of a notebook's solution cells (the parts students write)."""
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }


def import_library() -> None:
    """Imports every module of ``movierec_helpers``, so that all its library answers are declared.

    The PyTorch track's modules come first (PyTorch's compiler must load before TensorFlow,
    see :mod:`movierec_helpers.models.torch.cfmodel`), and a track's modules are left out where
    its framework is not installed (a course of one track only).
    """
    import movierec_helpers

    names = [m.name for m in pkgutil.walk_packages(movierec_helpers.__path__, "movierec_helpers.")]
    installed = {
        track
        for track, modules in FRAMEWORK_MODULES.items()
        if importlib.util.find_spec(modules[0]) is not None
    }
    names = [n for n in names if module_track(n) in installed or module_track(n) == SHARED]
    for name in sorted(names, key=lambda n: module_track(n) != "pytorch"):
        importlib.import_module(name)


def library_references() -> dict[str, dict[str, str]]:
    """``exercise -> {qualified name: source}`` of the library answers of every exercise."""
    import_library()
    found: dict[str, dict[str, str]] = {}
    for exercise in EXERCISE_OF_FUNCTION.values():
        for fn in library_answers(exercise):
            answers = found.setdefault(exercise, {})
            # Both tracks answer the same exercises under the same names: the second is qualified.
            name = fn.__qualname__ if fn.__qualname__ not in answers else f"{fn.__module__}.{fn.__qualname__}"
            answers[name] = textwrap.dedent(inspect.getsource(fn.__wrapped__))
    return found


def _fingerprint(name: str, code: str, boilerplate) -> CodeFingerprint:
    return CodeFingerprint(f"{name}.py", NOISE, WINDOW, boilerplate=boilerplate, fp=io.StringIO(code))


def mask_release_lines(code: str, stub: str) -> str:
    """``code`` with the lines it shares with the release's cell blanked, offsets kept.

    Fingerprints that straddle the end of the given code (the docstring) and the start of
    the student's own lines are in no fingerprint of the stub itself; blanking the given
    lines (spaces, same length) keeps them out while the character offsets, and so the
    highlighted lines, stay those of the original code.
    """
    lines, given = code.split("\n"), stub.split("\n")
    matcher = difflib.SequenceMatcher(a=lines, b=given, autojunk=False)
    for block in matcher.get_matching_blocks():
        if block.size < 3:  # a lone '"""' or ')' is not the release's code, and may close a string
            continue
        for i in range(block.a, block.a + block.size):
            if lines[i].strip():
                lines[i] = " " * len(lines[i])
    return "\n".join(lines)


def _lines(code: str, slices) -> list[int]:
    starts = [0, *itertools.accumulate(len(line) + 1 for line in code.split("\n"))]
    lines = set()
    for begin, end in zip(*slices):
        first = next(i for i, s in enumerate(starts) if s > begin) - 1
        last = next((i for i, s in enumerate(starts) if s >= end), len(starts)) - 1
        lines.update(range(first + 1, last + 1))
    return sorted(lines)


def _compare(exercise, kind, a, b, code_a, code_b, fa, fb) -> Match:
    _, (share_a, share_b), (slices_a, slices_b) = compare_files(fa, fb)
    if len(slices_a) == 0 or len(slices_a[0]) == 0:
        return Match(exercise, kind, a, b, 0.0, [], [], html.escape(code_a), html.escape(code_b))
    marked_a = highlight_overlap(code_a, slices_a, "<mark>", "</mark>", escape_html=True)[0]
    marked_b = highlight_overlap(code_b, slices_b, "<mark>", "</mark>", escape_html=True)[0]
    return Match(
        exercise,
        kind,
        a,
        b,
        round(float(max(share_a, share_b)), 3),
        _lines(code_a, slices_a),
        _lines(code_b, slices_b),
        marked_a,
        marked_b,
    )


def compare_codes(
    exercise: str, students: dict[str, str], references: dict[str, str], stub: str
) -> list[Match]:
    """Compares every pair of students, and every student with every reference code.

    Args:
        exercise: the graded cell's id.
        students: student id -> their code of the cell.
        references: label -> reference code (e.g. ``"solutions"``, ``"library:gravity"``).
        stub: the release's cell (stub, signature, docstring): boilerplate.

    Returns:
        The matches, highest score first.
    """
    boilerplate = list(_fingerprint("stub", stub, None).hashes) if stub.strip() else None
    codes = {s: c for s, c in students.items() if c.strip() and c.strip() != stub.strip()}
    mine = {s: _fingerprint(s, mask_release_lines(code, stub), boilerplate) for s, code in codes.items()}
    theirs = {
        label: _fingerprint(label, mask_release_lines(code, stub), boilerplate)
        for label, code in references.items()
    }
    matches = [
        _compare(exercise, "pair", a, b, codes[a], codes[b], mine[a], mine[b])
        for a, b in itertools.combinations(sorted(codes), 2)
    ]
    matches += [
        _compare(exercise, "reference", s, label, codes[s], ref, mine[s], theirs[label])
        for s in sorted(codes)
        for label, ref in references.items()
    ]
    return sorted(matches, key=lambda m: (-m.score, m.exercise, m.first, m.second))


def similarity(course: Path, assignment: str) -> list[Match]:
    """The matches of every graded solution cell of ``assignment`` in ``submitted/``."""
    course = Path(course).resolve()
    library = library_references()
    matches = []
    for source in sorted((course / "solutions" / assignment).glob("*.ipynb")):
        answers = solution_cells(source)
        release = course / "notebooks" / assignment / source.name
        stubs = solution_cells(release) if release.exists() else {}
        submitted = {
            p.parent.parent.name: solution_cells_safe(p)
            for p in sorted((course / "submitted").glob(f"*/{assignment}/{source.name}"))
        }
        for exercise, answer in answers.items():
            references = {"solutions": MARKERS.sub("", answer)}
            for name, code in library.get(exercise, {}).items():
                references[f"library:{name}"] = code
            students = {s: cells.get(exercise, "") for s, cells in submitted.items()}
            matches += compare_codes(exercise, students, references, stubs.get(exercise, ""))
    return sorted(matches, key=lambda m: (-m.score, m.exercise, m.first, m.second))


def solution_cells_safe(path: Path) -> dict[str, str]:
    """Like :func:`solution_cells`, but an unreadable submission has no cells."""
    try:
        return solution_cells(path)
    except Exception:  # noqa: BLE001 - the grading report already names broken notebooks
        return {}


def write_csv(matches: list[Match], out: Path) -> Path:
    """One row per compared pair: exercise, kind, first, second, score, overlapping lines."""
    return write_csv_file(
        out,
        ["exercise", "kind", "first", "second", "score", "first_lines", "second_lines"],
        (
            [
                m.exercise,
                m.kind,
                m.first,
                m.second,
                f"{m.score:.3f}",
                " ".join(map(str, m.first_lines)),
                " ".join(map(str, m.second_lines)),
            ]
            for m in matches
        ),
    )


def _line_ranges(lines: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``"1-3, 7"``; ``"none"`` for no line."""
    ranges = []
    for _, group in itertools.groupby(enumerate(lines), key=lambda pair: pair[1] - pair[0]):
        numbers = [n for _, n in group]
        ranges.append(str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}")
    return ", ".join(ranges) or "none"


def _pair_section(m: Match) -> str:
    """One pair: its heading, the shared lines in words, the two codes side by side (shared code marked)."""
    first, second = html.escape(m.first), html.escape(m.second)
    code = table(
        f"{m.exercise}: the code of {m.first} (left) and {m.second} (right), shared code marked",
        [m.first, m.second],
        [[Html(f"<pre>{m.first_html}</pre>"), Html(f"<pre>{m.second_html}</pre>")]],
        row_headers=False,
    )
    return (
        f"<section><h2>{html.escape(m.exercise)}: {first} / {second} "
        f"({m.kind}), score {m.score:.2f}</h2>"
        f"<p>Shared lines: {first} {_line_ranges(m.first_lines)}; "
        f"{second} {_line_ranges(m.second_lines)}.</p>"
        f"{code}</section>"
    )


def write_html(matches: list[Match], out: Path, threshold: float = DEFAULT_THRESHOLD) -> Path:
    """The pairs at or above ``threshold``, highest first, the two codes side by side.

    An accessible page (:mod:`~movierec_instructor.integrity.report_page`): each pair is a section
    under its ``h2``; the shared lines are named in words as well as marked (``<mark>``,
    underlined as well as coloured) in the codes.
    """
    shown = [m for m in matches if m.score >= threshold]
    summary = (
        f"<p>{len(shown)} of {len(matches)} compared pairs at or above {threshold:.2f}. Marked "
        "(highlighted and underlined): code both share after names, literals and comments are "
        "ignored. This report changes no grade.</p>"
    )
    style = (
        "table{width:100%;table-layout:fixed}td{width:50%}"
        "mark{background:#ffe27a;color:#1b1b1b;text-decoration:underline;text-decoration-thickness:2px}"
    )
    body = "\n".join(_pair_section(m) for m in shown) or "<p>No pair is at or above the threshold.</p>"
    Path(out).write_text(page("Similarity report", summary, body, style=style), encoding="utf-8")
    return Path(out)
