"""Mutation operators for the mistakes students make against a requirement the text states.

:mod:`movierec_instructor.strength.mutation` changes operators, constants and arguments; these change
what a requirement asks for: the aggregation (the *largest* similarity, not the sum), the order
of ties, a clamp (``max(1, ...)``: "at least 1"), the handling of unknown (NaN) values, the
seed of a random draw, the steps of a PyTorch training loop, and the PyTorch port's mistakes
with the order of a sparse tensor's entries and the dimension of ``index_select``. Each operator
takes an AST node and its parent and yields ``(operator name, replacement source)``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

# Reductions and the others a student writes instead (NumPy, TensorFlow, PyTorch names).
REDUCTIONS = {
    "max": ("sum", "mean", "min"),
    "amax": ("sum", "mean", "amin"),
    "min": ("max", "mean", "sum"),
    "reduce_max": ("reduce_sum", "reduce_mean", "reduce_min"),
    "reduce_min": ("reduce_max", "reduce_mean"),
}
ELEMENTWISE = {"maximum": "minimum", "minimum": "maximum", "fmax": "fmin", "fmin": "fmax"}
CLAMPS = ("max", "min", "maximum", "minimum", "clip", "clamp", "clamp_min", "clamp_max")
SEEDED = ("default_rng", "manual_seed", "set_seed", "seed", "RandomState", "Generator")


def _name(node: ast.Call) -> str:
    return getattr(node.func, "attr", getattr(node.func, "id", ""))


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def aggregation(node, parent) -> Iterator[tuple[str, str]]:
    """``np.max(x)`` -> sum, mean, min; a running ``np.maximum(a, b)`` -> ``a + b`` (a sum) or the minimum."""
    if not isinstance(node, ast.Call) or any(_is_number(a) for a in node.args):
        return
    name = _name(node)
    if name in ELEMENTWISE and len(node.args) == 2:
        a, b = (ast.unparse(x) for x in node.args)
        yield "aggregation", f"({a} + {b})"
        func = (
            ast.Attribute(node.func.value, ELEMENTWISE[name], ast.Load())
            if isinstance(node.func, ast.Attribute)
            else ast.Name(ELEMENTWISE[name], ast.Load())
        )
        yield "aggregation", ast.unparse(ast.Call(func, node.args, node.keywords))
    elif name in REDUCTIONS and isinstance(node.func, ast.Attribute):
        for other in REDUCTIONS[name]:
            yield (
                "aggregation",
                ast.unparse(
                    ast.Call(ast.Attribute(node.func.value, other, ast.Load()), node.args, node.keywords)
                ),
            )
    elif name in ("max", "min") and isinstance(node.func, ast.Name) and len(node.args) == 1:
        yield "aggregation", f"sum({ast.unparse(node.args[0])})"


def tie_order(node, parent) -> Iterator[tuple[str, str]]:
    """Ties the other way: a tie-breaking key of ``np.lexsort`` negated; a stable descending sort reversed."""
    if not isinstance(node, ast.Call):
        return
    name = _name(node)
    if name == "lexsort" and node.args and isinstance(node.args[0], (ast.Tuple, ast.List)):
        keys = node.args[0].elts
        for i, key in enumerate(keys[:-1]):
            flipped = list(keys)
            flipped[i] = (
                key.operand
                if isinstance(key, ast.UnaryOp) and isinstance(key.op, ast.USub)
                else ast.UnaryOp(ast.USub(), key)
            )
            yield (
                "tie order",
                ast.unparse(
                    ast.Call(
                        node.func, [type(node.args[0])(flipped, ast.Load()), *node.args[1:]], node.keywords
                    )
                ),
            )
    elif (
        name == "argsort"
        and node.args
        and isinstance(node.args[0], ast.UnaryOp)
        and isinstance(node.args[0].op, ast.USub)
    ):
        ascending = ast.Call(node.func, [node.args[0].operand, *node.args[1:]], node.keywords)
        yield "tie order", f"{ast.unparse(ascending)}[::-1]"


def clamp(node, parent) -> Iterator[tuple[str, str]]:
    """A bound dropped: ``max(1, n)`` -> ``n``, ``np.maximum(0, age)`` -> ``age``, ``np.clip(x, 0, 1)`` ->
    ``x``."""
    if not isinstance(node, ast.Call) or _name(node) not in CLAMPS:
        return
    numbers = [a for a in node.args if _is_number(a)]
    others = [a for a in node.args if not _is_number(a)]
    if numbers and len(others) == 1:
        yield "clamp dropped", ast.unparse(others[0])


def nan_handling(node, parent) -> Iterator[tuple[str, str]]:
    """NaN handling dropped: ``np.where(np.isnan(x), a, b)`` -> ``b``; ``np.nan_to_num(x)`` -> ``x``."""
    if not isinstance(node, ast.Call):
        return
    name = _name(node)
    if name == "where" and len(node.args) == 3 and "isnan" in ast.unparse(node.args[0]):
        yield "NaN handling dropped", ast.unparse(node.args[2])
    elif name in ("nan_to_num", "fillna") and isinstance(node.func, ast.Attribute):
        target = node.args[0] if name == "nan_to_num" and node.args else node.func.value
        yield "NaN handling dropped", ast.unparse(target)


def seed_dropped(node, parent) -> Iterator[tuple[str, str]]:
    """The given seed left out: ``np.random.default_rng(seed)`` -> ``np.random.default_rng()``,
    ``torch.Generator().manual_seed(seed)`` -> ``torch.Generator()``."""
    if not isinstance(node, ast.Call) or _name(node) not in SEEDED or not (node.args or node.keywords):
        return
    if _name(node) == "manual_seed" and isinstance(node.func, ast.Attribute):
        yield "seed dropped", ast.unparse(node.func.value)
    else:
        yield "seed dropped", ast.unparse(ast.Call(node.func, [], []))


def sparse_order(node, parent) -> Iterator[tuple[str, str]]:
    """PyTorch's sparse COO tensors: the port's mistakes with the order of the entries.

    ``A.coalesce()`` -> ``A`` (an uncoalesced tensor has no ``indices()``; a dense index with
    duplicates counts them apart), ``A.indices()`` -> ``A._indices()`` (the entries in the order
    given, no longer aligned with ``A.coalesce().values()``), ``torch.sparse.mm`` -> ``torch.mm``.
    """
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return
    name = node.func.attr
    if name == "coalesce" and not node.args:
        yield "sparse order", ast.unparse(node.func.value)
    elif name in ("indices", "values") and not node.args:
        yield (
            "sparse order",
            ast.unparse(ast.Call(ast.Attribute(node.func.value, f"_{name}", ast.Load()), [], [])),
        )
    elif name == "mm" and ast.unparse(node.func.value).endswith("sparse"):
        yield (
            "sparse order",
            ast.unparse(
                ast.Call(
                    ast.Attribute(ast.Name("torch", ast.Load()), "mm", ast.Load()), node.args, node.keywords
                )
            ),
        )


def gather_dim(node, parent) -> Iterator[tuple[str, str]]:
    # torch.index_select(X, 0, idx) / X.index_select(0, idx): gathering columns instead of rows.
    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "index_select":
        position = 1 if len(node.args) == 3 else 0
        if len(node.args) > position and isinstance(node.args[position], ast.Constant):
            args = list(node.args)
            args[position] = ast.Constant(1 - node.args[position].value)
            yield "dim", ast.unparse(ast.Call(node.func, args, node.keywords))


def training_step(node, parent) -> Iterator[tuple[str, str]]:
    """The PyTorch training loop's mistakes: a forgotten ``zero_grad()`` (gradients add up),
    ``backward()`` or ``step()`` (nothing moves), and ``loss.detach()`` -> ``loss.item()`` (a
    host sync per step: the loop waits for the GPU at every step)."""
    call = node.value if isinstance(node, ast.Expr) else None
    if isinstance(call, ast.Call) and getattr(call.func, "attr", "") in ("zero_grad", "backward", "step"):
        yield f"forgot {call.func.attr}", "pass"
    elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "detach" and not node.args:
        yield "host sync", ast.unparse(ast.Call(ast.Attribute(node.func.value, "item", ast.Load()), [], []))


OPERATORS = [
    aggregation,
    tie_order,
    clamp,
    nan_handling,
    seed_dropped,
    sparse_order,
    gather_dim,
    training_step,
]
