"""Mutants of a graded solution cell: small, plausible mistakes in the reference answer.

Each mutant changes one expression of the code between ``### BEGIN SOLUTION`` and
``### END SOLUTION``; everything else of the cell (signature, docstring, comments) stays as
written, so a mutant's diff is one line or a few. The operators are the mistakes students
of this course make: a wrong operator, an off-by-one, ``reduce_mean`` for ``reduce_sum``
(``mean`` for ``sum``), the wrong axis or ``dim`` or transpose (``V.T``), a forgotten term,
normalisation or keyword argument, swapped arguments or list elements, the naive formula for
a numerically stable op, a constant answer, PyTorch's sparse-order mistakes (``coalesce``
forgotten, ``_indices()`` for ``indices()``, ``torch.mm`` for ``torch.sparse.mm``), the wrong
``index_select`` dimension, calling the library's own answer
(:func:`~movierec_helpers.exercises.reference.library_answers`),
and the requirement-level mistakes of :mod:`movierec_instructor.strength.student_mistakes` (aggregation,
tie order, clamps, NaN handling, seeds).

Built on Python's :mod:`ast` rather than a mutation-testing package: mutmut and
cosmic-ray mutate files of an importable package and run a test command per mutant (a
fresh process, so a TensorFlow import and a data load per mutant); notebook cells are
strings, the tests are the next cell, and one kernel per exercise runs all its mutants.
Their generic operators also lack the course's (axis, transpose, stable ops, library answers).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import replace

from movierec_instructor.strength import student_mistakes
from movierec_instructor.strength.mutant import Mutant, solution_region
from movierec_instructor.strength.shortcuts import library_shortcut_mutants

ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
COMPARISON = {
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
AXIS_KEYWORDS = ("axis", "axes", "dim")
MEAN_SUM = {
    "reduce_mean": "reduce_sum",
    "reduce_sum": "reduce_mean",
    "mean": "sum",
    "sum": "mean",
    "nanmean": "nansum",
    "nansum": "nanmean",
}
# Stable ops and the naive formula a student writes instead (X: the logits argument). Norms
# are left out: NumPy and TensorFlow compute them as sqrt(sum of squares) themselves, so
# the naive formula would be an equivalent mutant by construction.
NAIVE_SOFTMAX = "(tf.exp({x}) / tf.reduce_sum(tf.exp({x}), axis=-1, keepdims=True))"
NAIVE_SOFTMAX_TORCH = "(torch.exp({x}) / torch.exp({x}).sum(dim=-1, keepdim=True))"
TORCH_ROOTS = ("torch", "F", "nn", "functional")


def _offset(lines: list[str], line: int, col: int) -> int:
    # ast columns count UTF-8 bytes
    return sum(len(s) + 1 for s in lines[: line - 1]) + len(lines[line - 1].encode()[:col].decode())


def _replace(source: str, node: ast.AST, text: str) -> str:
    lines = source.split("\n")
    start = _offset(lines, node.lineno, node.col_offset)
    end = _offset(lines, node.end_lineno, node.end_col_offset)
    return source[:start] + text + source[end:]


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _binop(node: ast.BinOp, op: ast.operator) -> str:
    return f"({_text(ast.BinOp(node.left, op, node.right))})"


def _arithmetic(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        yield "arithmetic", _binop(node, ARITHMETIC[type(node.op)]())


def _comparison(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in COMPARISON:
                ops = list(node.ops)
                ops[i] = COMPARISON[type(op)]()
                yield "comparison", _text(ast.Compare(node.left, ops, node.comparators))


def _mean_sum(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Attribute) and node.attr in MEAN_SUM:
        yield "mean/sum", _text(ast.Attribute(node.value, MEAN_SUM[node.attr], ast.Load()))
    if isinstance(node, ast.Constant) and node.value in ("mean", "sum"):
        yield "mean/sum", repr(MEAN_SUM[node.value])


def _axis(node, parent) -> Iterator[tuple[str, str]]:
    # axis (NumPy, TensorFlow) and dim (PyTorch): the reduction over the wrong dimension.
    if (
        isinstance(node, ast.keyword)
        and node.arg in AXIS_KEYWORDS
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, int)
        and not isinstance(node.value.value, bool)
    ):
        other = 1 if node.value.value in (0, -1) else 0
        yield "axis", f"{node.arg}={other}"


def _transpose(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):  # PyTorch and NumPy: V.T -> V
        yield "transpose", _text(node.value)
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "matmul":
        given = {k.arg: k for k in node.keywords}
        for flag in ("transpose_a", "transpose_b"):
            keywords = [k for k in node.keywords if k.arg != flag]
            if flag not in given:
                keywords.append(ast.keyword(flag, ast.Constant(True)))
            elif isinstance(given[flag].value, ast.Constant):
                keywords.append(ast.keyword(flag, ast.Constant(not given[flag].value.value)))
            else:
                continue
            yield "transpose", _text(ast.Call(node.func, node.args, keywords))


def _boolean(node, parent) -> Iterator[tuple[str, str]]:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, bool)
        and not (isinstance(parent, ast.keyword) and parent.arg in ("transpose_a", "transpose_b"))
    ):
        yield "boolean", repr(not node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "boolean", _text(node.operand)


def _off_by_one(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        if isinstance(parent, ast.keyword) and parent.arg in AXIS_KEYWORDS:
            return
        for value in (node.value + 1, node.value - 1):
            yield "off-by-one", repr(value)


def _drop_term(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield "drop term", _text(node.left)
        if isinstance(node.op, ast.Add):
            yield "drop term", _text(node.right)


def _drop_normalisation(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv)):
        yield "drop normalisation", _text(node.left)


def _kind(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return type(node.value).__name__
    return "literal" if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)) else "expression"


def _swap_arguments(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Call):
        for i in range(len(node.args) - 1):
            a, b = node.args[i], node.args[i + 1]
            if (
                _kind(a) == _kind(b)
                and not isinstance(a, ast.Starred)
                and not isinstance(b, ast.Starred)
                and _text(a) != _text(b)
            ):
                args = list(node.args)
                args[i], args[i + 1] = b, a
                yield "swap arguments", _text(ast.Call(node.func, args, node.keywords))


def _swap_elements(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, (ast.List, ast.Tuple)) and not isinstance(
        parent, (ast.Assign, ast.For, ast.comprehension)
    ):
        for i in range(len(node.elts) - 1):
            a, b = node.elts[i], node.elts[i + 1]
            if _kind(a) == _kind(b) and _text(a) != _text(b) and not isinstance(a, ast.Starred):
                elts = list(node.elts)
                elts[i], elts[i + 1] = b, a
                yield "swap arguments", _text(type(node)(elts, ast.Load()))


def _drop_keyword(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg is not None:
                rest = [k for k in node.keywords if k is not keyword]
                yield "drop argument", _text(ast.Call(node.func, node.args, rest))


def _naive_formula(node, parent) -> Iterator[tuple[str, str]]:
    if not isinstance(node, ast.Call):
        return
    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
    given = {k.arg: _text(k.value) for k in node.keywords}
    if _text(node.func).split(".")[0] in TORCH_ROOTS:
        yield from _naive_torch_formula(node, name, given)
    elif name == "sparse_softmax_cross_entropy_with_logits" and {"labels", "logits"} <= set(given):
        p = NAIVE_SOFTMAX.format(x=given["logits"])
        yield "naive formula", f"-tf.math.log(tf.gather({p}, {given['labels']}, batch_dims=1))"
    elif name == "softmax_cross_entropy_with_logits" and {"labels", "logits"} <= set(given):
        p = NAIVE_SOFTMAX.format(x=given["logits"])
        yield "naive formula", f"-tf.reduce_sum({given['labels']} * tf.math.log({p}), axis=-1)"
    elif name in ("softmax", "log_softmax") and node.args:
        p = NAIVE_SOFTMAX.format(x=_text(node.args[0]))
        yield "naive formula", p if name == "softmax" else f"tf.math.log({p})"
    elif name == "reduce_logsumexp" and node.args:
        rest = "".join(f", {_text(a)}" for a in node.args[1:]) + "".join(
            f", {k}={v}" for k, v in given.items()
        )
        yield "naive formula", f"tf.math.log(tf.reduce_sum(tf.exp({_text(node.args[0])}){rest}))"


def _naive_torch_formula(node: ast.Call, name: str, given: dict[str, str]) -> Iterator[tuple[str, str]]:
    # PyTorch's cross_entropy(logits, labels) and (log_)softmax(x, dim) by hand: exp() overflows.
    if name == "cross_entropy" and len(node.args) >= 2:
        p = NAIVE_SOFTMAX_TORCH.format(x=_text(node.args[0]))
        labels = _text(node.args[1])
        picked = f"-torch.log({p}.gather(1, {labels}.reshape(-1, 1)).squeeze(1))"
        reduction = given.get("reduction", "'mean'").strip("'\"")
        if reduction in ("mean", "sum"):
            yield "naive formula", f"({picked}).{reduction}()"
        elif reduction == "none":
            yield "naive formula", picked
    elif name in ("softmax", "log_softmax") and node.args:
        p = NAIVE_SOFTMAX_TORCH.format(x=_text(node.args[0]))
        yield "naive formula", p if name == "softmax" else f"torch.log({p})"
    elif name == "logsumexp" and node.args:
        dim = _text(node.args[1]) if len(node.args) > 1 else given.get("dim", "-1")
        yield "naive formula", f"torch.log(torch.exp({_text(node.args[0])}).sum(dim={dim}))"


def _sign(node, parent) -> Iterator[tuple[str, str]]:
    # "Best first" sorts by minus the score: a dropped sign sorts worst first.
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and not isinstance(node.operand, ast.Constant)
    ):
        yield "sign", _text(node.operand)


def _slice_bound(node, parent) -> Iterator[tuple[str, str]]:
    # order[:k] -> order[:k + 1]: the top-k list one too long or too short (constants: see off-by-one).
    if isinstance(parent, ast.Slice) and node is parent.upper and not isinstance(node, ast.Constant):
        yield "off-by-one", f"{_text(node)} + 1"
        yield "off-by-one", f"{_text(node)} - 1"


def _drop_statement(node, parent) -> Iterator[tuple[str, str]]:
    # An assignment into part of an array is a mask or an update (unseen[rated] = False): forgotten.
    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) for t in node.targets):
        yield "drop statement", "pass"


def _constant_return(node, parent) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Return) and node.value is not None:
        yield "return constant", "return 0.0"


OPERATORS: list[Callable] = [
    _arithmetic,
    _comparison,
    _mean_sum,
    _axis,
    _transpose,
    _boolean,
    _off_by_one,
    _drop_term,
    _drop_normalisation,
    _swap_arguments,
    _swap_elements,
    _drop_keyword,
    _naive_formula,
    _sign,
    _slice_bound,
    _drop_statement,
    _constant_return,
    *student_mistakes.OPERATORS,
]


def _parented(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    stack: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        stack.extend((child, node) for child in reversed(list(ast.iter_child_nodes(node))))


def expression_mutants(exercise: str, source: str) -> list[Mutant]:
    """Every mutant of the code between the solution markers of ``source``, in source order."""
    first, last = solution_region(source)
    tree = ast.parse(source)
    lines = source.split("\n")
    found: dict[str, Mutant] = {}
    for node, parent in _parented(tree):
        if not hasattr(node, "lineno") or node.lineno < first or node.end_lineno > last:
            continue
        original = ast.get_source_segment(source, node)
        for operator in OPERATORS:
            for name, text in operator(node, parent):
                mutated = _replace(source, node, text)
                if mutated == source or mutated in found:
                    continue
                context = lines[node.lineno - 1].strip()
                found[mutated] = Mutant(exercise, name, original, text, node.lineno, context, mutated, source)
    return list(found.values())


def all_mutants(exercise: str, source: str, answers: list[Callable]) -> list[Mutant]:
    """The expression mutants and the library-shortcut mutants of a solution cell, keys unique."""
    mutants, seen = [], {}
    for mutant in expression_mutants(exercise, source) + library_shortcut_mutants(exercise, source, answers):
        seen[mutant.key] = seen.get(mutant.key, 0) + 1
        mutants.append(replace(mutant, occurrence=seen[mutant.key]))
    return mutants
