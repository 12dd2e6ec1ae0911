"""A static scan of submitted code for changes to what the tests stand on.

The grading sandbox (:mod:`movierec_instructor.integrity.sandbox`) keeps a submission away from
everything outside its own kernel: answers, the gradebook, other students, the
environment on disk, the network. What it cannot see is a submission patching, inside
its own kernel, the functions its tests call (``np.testing.assert_allclose = ...``) or
ending the kernel. This scan looks for those; a hit sets the notebook aside for a human
(graded 0, kept as ``*.rejected``, named in the report). It is a pattern list and can be
walked around; it is the second line, not the one that keeps other students safe.
"""

from __future__ import annotations

import ast

import nbformat

TEST_HELPERS = {"own_work", "record_metrics", "PartialCredit"}
MODULE_ALIASES = {
    "np",
    "numpy",
    "tf",
    "tensorflow",
    "pd",
    "pandas",
    "builtins",
    "sys",
    "os",
    "movierec_helpers",
    "keras",
    "math",
    "unittest",
    "pytest",
    "importlib",
    *TEST_HELPERS,
}
PROTECTED_NAMES = {
    "np",
    "tf",
    "pd",
    *TEST_HELPERS,
    "AssertionError",
    "print",
    "isinstance",
    "len",
    "float",
    "set",
    "list",
    "__builtins__",
    "builtins",
}
ALLOWED_ATTRIBUTE_PREFIXES = ("pd.options", "pandas.options", "np.random", "os.environ")
KERNEL_ENDERS = {"os._exit", "sys.exit", "exit", "quit", "os.kill", "os.abort", "os.killpg"}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def tampering(source: str) -> list[str]:
    """What in this code changes the ground the tests stand on (empty if nothing).

    Args:
        source: Python source of one or more notebook cells.

    Returns:
        A description per finding, e.g. ``"assigns np.testing.assert_allclose (line 3)"``.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # a syntax error fails the student's own cell; nothing to defend
    except (RecursionError, MemoryError, ValueError) as exc:
        # Nesting deep enough to break Python's parser: no honest answer looks like this,
        # and code that cannot be checked is not run.
        return [f"code nested too deeply to check ({type(exc).__name__})"]
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in PROTECTED_NAMES:
            found.append(f"redefines {node.name} (line {node.lineno})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                expected = {"np": "numpy", "tf": "tensorflow", "pd": "pandas"}.get(bound)
                if (
                    expected
                    and not alias.name.startswith(expected)
                    and not (
                        isinstance(node, ast.ImportFrom)
                        and node.module
                        and node.module.startswith("movierec_helpers")
                    )
                ):
                    found.append(f"binds {bound} to {alias.name} (line {node.lineno})")
                if bound in TEST_HELPERS and not (
                    isinstance(node, ast.ImportFrom) and node.module == "movierec_helpers.exercises"
                ):
                    found.append(f"imports its own {bound} (line {node.lineno})")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in KERNEL_ENDERS:
                found.append(f"calls {name} (line {node.lineno})")
            if (
                name in {"setattr", "delattr"}
                and node.args
                and _dotted(node.args[0]) in MODULE_ALIASES | {"np.testing", "numpy.testing"}
            ):
                found.append(f"calls {name} on {_dotted(node.args[0])} (line {node.lineno})")
            if name in {"open", "Path", "pathlib.Path"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and str(first.value).endswith(".py"):
                    found.append(f"writes a Python file {first.value} (line {node.lineno})")
        for target in targets:
            if isinstance(target, ast.Name) and target.id in PROTECTED_NAMES:
                found.append(f"rebinds {target.id} (line {node.lineno})")
            dotted = _dotted(target) if isinstance(target, ast.Attribute) else None
            if (
                dotted
                and dotted.split(".")[0] in MODULE_ALIASES
                and not dotted.startswith(ALLOWED_ATTRIBUTE_PREFIXES)
            ):
                found.append(f"assigns {dotted} (line {node.lineno})")
            if isinstance(target, ast.Subscript) and _dotted(target.value) in {
                "sys.modules",
                "builtins.__dict__",
            }:
                found.append(f"changes {_dotted(target.value)} (line {node.lineno})")
    return found


def notebook_code(nb: nbformat.NotebookNode) -> str:
    """The Python source of a notebook's code cells (shell and magic lines left out)."""
    return "\n".join(
        c.source for c in nb.cells if c.cell_type == "code" and not c.source.lstrip().startswith(("%", "!"))
    )
