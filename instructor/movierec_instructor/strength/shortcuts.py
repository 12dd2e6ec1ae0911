"""Library-shortcut mutants: a solution replaced by one call of the library's own answer.

A student who calls :func:`~movierec_helpers.exercises.reference.library_answers`'s function
instead of writing the exercise must lose its points (the reference guard, the hidden checks);
these mutants check that the tests notice. Only the answers of the notebook's own track are
tried (:func:`movierec_helpers.tracks.for_track`).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable

from movierec_helpers.tracks import for_track
from movierec_instructor.strength.mutant import Mutant, solution_region


def _function_of_region(tree: ast.Module, first: int) -> ast.FunctionDef:
    functions = [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.lineno < first <= n.end_lineno
    ]
    if not functions:
        raise ValueError("The solution region is not inside a function.")
    return min(functions, key=lambda n: n.end_lineno - n.lineno)


def _call_arguments(answer: Callable, params: list[str]) -> str | None:
    """How to call ``answer`` with a student's parameters, or None when they do not fit."""
    signature = inspect.signature(getattr(answer, "__wrapped__", answer))
    accepted = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in accepted if p.default is p.empty]
    if all(name in params for name in required):
        return ", ".join(f"{p.name}={p.name}" for p in accepted if p.name in params)
    if len(required) == len(params):
        return ", ".join(params)
    return None


def answers_of_track(answers: list[Callable], track: str) -> list[Callable]:
    """The library answers a notebook of ``track`` could call: those of its own track's modules and shared
    ones.

    A PyTorch notebook's kernel must not load TensorFlow (nor the other way round), and a
    student of one track would not reach for the other track's answer.
    """
    return [fn for fn in answers if for_track(fn.__module__, track)]


def library_shortcut_mutants(exercise: str, source: str, answers: list[Callable]) -> list[Mutant]:
    """Mutants whose solution is one call of a library answer of the exercise.

    A function answer is imported and called with the student's parameters; a method
    answer is called on the first parameter (``network(bag_weights)`` for ``__call__``).
    Answers whose signature does not fit the student's function are left out.
    """
    first, last = solution_region(source)
    tree = ast.parse(source)
    function = _function_of_region(tree, first)
    params = [a.arg for a in function.args.args]
    lines = source.split("\n")
    indent = re.match(r"\s*", lines[first - 2]).group(0)
    mutants = []
    for answer in answers:
        owner, _, method = answer.__qualname__.rpartition(".")
        if owner:
            arguments = _call_arguments(answer, ["self", *params[1:]])
            if arguments is None or not params:
                continue
            arguments = ", ".join(a for a in arguments.split(", ") if a not in ("self=self", "self"))
            target = params[0] if method == "__call__" else f"{params[0]}.{method}"
            body = [f"return {target}({arguments})"]
        else:
            arguments = _call_arguments(answer, params)
            if arguments is None:
                continue
            body = [
                f"from {answer.__module__} import {answer.__name__} as library_answer",
                f"return library_answer({arguments})",
            ]
        mutated_lines = lines[: first - 1] + [indent + line for line in body] + lines[last:]
        mutants.append(
            Mutant(
                exercise,
                "library shortcut",
                "the solution",
                "; ".join(body),
                first,
                "the solution",
                "\n".join(mutated_lines),
                source,
            )
        )
    return mutants
