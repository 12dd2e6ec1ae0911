"""Similarity report: planted copies rank above the threshold, independent answers below."""

import csv
from pathlib import Path

import nbformat
import pytest

from movierec_instructor.cli import main
from movierec_instructor.integrity.similarity import DEFAULT_THRESHOLD, similarity

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT = "03_inspecting_embeddings"

HEADER = '''DOT = "dot"
COSINE = "cosine"


def compute_scores(query_embedding, item_embeddings, measure=DOT):
    """Scores of every item for a query.

    Args:
        query_embedding: vector of shape [d].
        item_embeddings: matrix of shape [N, d].
        measure: DOT or COSINE.
    Returns:
        Vector of shape [N].
    """
'''
ORIGINAL = (
    HEADER
    + """    query = np.array(query_embedding, dtype=np.float64)
    items = np.array(item_embeddings, dtype=np.float64)
    raw = items @ query
    if measure == DOT:
        return raw
    lengths = np.sqrt((items ** 2).sum(axis=1)) * np.sqrt((query ** 2).sum())
    lengths[lengths == 0] = np.inf  # zero vectors score 0
    return raw / lengths
"""
)
RENAMED = (
    HEADER
    + """    v = np.array(item_embeddings, dtype=np.float64)
    q = np.array(query_embedding, dtype=np.float64)
    dots = v @ q
    if measure == DOT:
        return dots
    # norms of both sides
    norm_product = np.sqrt((v ** 2).sum(axis=1)) * np.sqrt((q ** 2).sum())
    norm_product[norm_product == 0] = np.inf
    return dots / norm_product
"""
)
LIBRARY_RENAMED = (
    HEADER
    + """    q = np.asarray(query_embedding, dtype=np.float64)
    m = np.asarray(item_embeddings, dtype=np.float64)
    if q.ndim != 1 or m.ndim != 2 or m.shape[1] != q.shape[0]:
        raise ValueError(
            f"Expected a query of shape [d] and items of shape [N, d], got {q.shape} "
            f"and {m.shape}."
        )
    if measure == DOT:
        return m @ q
    if measure == COSINE:
        return unit(m) @ unit(q[None, :])[0]
    raise ValueError(f"Unknown measure {measure!r}; use {DOT!r} or {COSINE!r}.")


def unit(a):
    n = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, n, out=np.zeros_like(a), where=n > 0)
"""
)
INDEPENDENT_LOOP = (
    HEADER
    + """    scores = []
    for row in item_embeddings:
        dot = sum(a * b for a, b in zip(row, query_embedding))
        if measure == COSINE:
            size = math.sqrt(sum(a * a for a in row)) * math.sqrt(sum(b * b for b in query_embedding))
            dot = dot / size if size else 0.0
        scores.append(dot)
    return np.array(scores)
"""
)
INDEPENDENT_EINSUM = (
    HEADER
    + """    E = np.asarray(item_embeddings, float)
    u = np.asarray(query_embedding, float)
    if measure == COSINE:
        E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
        u = u / max(np.linalg.norm(u), 1e-12)
    return np.einsum("nd,d->n", E, u)
"""
)
INDEPENDENT_TF = (
    HEADER
    + """    items = tf.constant(item_embeddings, tf.float64)
    query = tf.constant(query_embedding, tf.float64)
    if measure == "cosine":
        items = tf.math.l2_normalize(items, axis=1)
        query = tf.math.l2_normalize(query)
    return tf.linalg.matvec(items, query).numpy()
"""
)

PLANTED = {
    "orig": ORIGINAL,
    "verbatim": ORIGINAL,
    "renamed": RENAMED,
    "from_library": LIBRARY_RENAMED,
    "loop": INDEPENDENT_LOOP,
    "einsum": INDEPENDENT_EINSUM,
    "tf_ops": INDEPENDENT_TF,
}


@pytest.fixture(scope="module")
def planted_class(tmp_path_factory):
    course = tmp_path_factory.mktemp("similarity")
    for folder in ("solutions", "notebooks"):
        (course / folder).symlink_to(ROOT / folder)
    release = ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for student, code in [*PLANTED.items(), ("blank", None)]:
        nb = nbformat.read(release, as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "compute_scores" and code:
                cell.source = code
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    return course


def test_copies_rank_above_the_threshold_and_independent_answers_below(planted_class):
    matches = similarity(planted_class, ASSIGNMENT)
    flagged = {(m.kind, m.first, m.second) for m in matches if m.score >= DEFAULT_THRESHOLD}
    assert flagged == {
        ("pair", "orig", "verbatim"),
        ("pair", "orig", "renamed"),
        ("pair", "renamed", "verbatim"),
        ("reference", "from_library", "library:compute_scores"),
    }
    independent = {"loop", "einsum", "tf_ops"}
    assert max(m.score for m in matches if {m.first, m.second} & independent) < DEFAULT_THRESHOLD
    verbatim = next(m for m in matches if (m.first, m.second) == ("orig", "verbatim"))
    assert verbatim.score == pytest.approx(1.0)
    assert verbatim.first_lines, "the overlapping lines are named"


def test_release_code_and_blank_notebooks_are_never_overlap(planted_class):
    matches = similarity(planted_class, ASSIGNMENT)
    assert not [m for m in matches if "blank" in (m.first, m.second)], "a blank stub is nobody's copy"
    orig_vs_loop = next(m for m in matches if {m.first, m.second} == {"orig", "loop"})
    stub_lines = set(range(1, 15))  # DOT/COSINE, signature and docstring, as released
    assert not stub_lines & set(orig_vs_loop.first_lines + orig_vs_loop.second_lines)


def test_cli_writes_csv_and_html(planted_class, capsys):
    assert main(["--course", str(planted_class), "similarity", ASSIGNMENT, "--threshold", "0.6"]) == 0
    rows = list(csv.DictReader(open(planted_class / f"similarity-{ASSIGNMENT}.csv")))
    assert {"exercise", "kind", "first", "second", "score", "first_lines", "second_lines"} <= set(rows[0])
    assert float(rows[0]["score"]) >= float(rows[-1]["score"]), "sorted by score"
    page = (planted_class / f"similarity-{ASSIGNMENT}.html").read_text()
    assert page.count("<h2>") == 4 and "<mark>" in page and "changes no grade" in page
