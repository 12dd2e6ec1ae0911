"""The tree says who each file is for: students' package, instructors' package, benchmarks."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from movierec_helpers.tracks import FRAMEWORK_MODULES, SHARED, module_track

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "movierec_helpers": ROOT / "movierec_helpers",
    "movierec_instructor": ROOT / "instructor" / "movierec_instructor",
}


def _modules(package: str) -> dict[str, Path]:
    base = PACKAGES[package]
    found = {}
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((package, *parts))] = path
    return found


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``from X import names`` / ``import X`` in a file."""
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out.extend((a.name, []) for a in node.names)
    return out


def test_readme_map_is_a_table_of_rooms():
    """README's "Where things are" names every package (a room), not every file: docstrings name modules."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {re.match(r"\| `([^`]+)`", row).group(1).rstrip("/").removeprefix(".../") for row in rows}
    rooms = {
        "movierec_helpers/" + p.parent.relative_to(PACKAGES["movierec_helpers"]).as_posix()
        for p in PACKAGES["movierec_helpers"].glob("*/__init__.py")
    }
    rooms |= {p.parent.name for p in PACKAGES["movierec_instructor"].glob("*/__init__.py")}
    missing = sorted(room for room in rooms if room not in listed)
    assert not missing, f"README's 'Where things are' has no row for {missing}"
    assert len(rows) <= 25, "a short table of rooms: files belong in each package's docstring"
    assert not [row for row in rows if row.count(".py`") > 2], "rows name rooms, not lists of files"


def test_framework_code_lives_in_its_track_folder():
    """One rule for a module's track (its folder, see movierec_helpers.tracks): shared code imports no
    framework."""
    wrong = []
    for name, path in _modules("movierec_helpers").items():
        track = module_track(name)
        for module, _ in _imports(path):
            for framework, tops in FRAMEWORK_MODULES.items():
                if module.split(".")[0] in tops and track != framework:
                    wrong.append(f"{name} ({track}) imports {module} ({framework})")
    assert not wrong, "\n".join(wrong)
    assert module_track("movierec_helpers.models.torch.losses") == "pytorch"
    assert module_track("movierec_helpers.models.tensorflow") == "tensorflow"
    assert module_track("movierec_helpers.models.training_loop") == SHARED


def test_student_package_does_not_reach_instructor_code():
    for name, path in _modules("movierec_helpers").items():
        for module, _ in _imports(path):
            assert not module.startswith(("movierec_instructor", "nbgrader", "benchmarks")), (
                f"{name} imports {module}: students' code must not depend on grading code"
            )


def test_importing_the_student_package_loads_no_grading_tool():
    # The PyTorch track's modules first: after TensorFlow they refuse to load (models.torch.cfmodel).
    names = sorted(_modules("movierec_helpers"), key=lambda m: module_track(m) != "pytorch")
    modules = " ".join(f"import {m};" for m in names)
    tools = ("nbgrader", "movierec_instructor")
    code = f"{modules} import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {tools!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""},
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_private_names_cross_module_borders(package):
    for name, path in _modules(package).items():
        for module, names in _imports(path):
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if module.split(".")[0] in PACKAGES and private:
                pytest.fail(f"{name} imports private {private} from {module}")


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(package):
    modules = _modules(package)
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names in _imports(path):
            for candidate in [module, *(f"{module}.{n}" for n in names)]:
                if candidate in modules and candidate != name and not name.startswith(candidate + "."):
                    # A package's __init__ importing its own submodules is not a cycle.
                    if not candidate.startswith(name + ".") or modules[name].name != "__init__.py":
                        graph[name].add(candidate)
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in graph[node]:
            if modules[nxt].name == "__init__.py" and node.startswith(nxt + "."):
                continue
            if state.get(nxt) == "open":
                pytest.fail("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [])


def test_benchmarks_are_not_installed():
    assert not (ROOT / "movierec_helpers" / "bench.py").exists()
    assert not list((ROOT / "movierec_helpers").rglob("bench*.py"))
    assert (ROOT / "benchmarks").is_dir()


def test_make_bench_runs_every_benchmark():
    target = re.search(r"^bench:.*?(?=^\S)", (ROOT / "Makefile").read_text(), re.S | re.M).group(0)
    ran = set(re.findall(r"benchmarks/(\w+)\.py", target))
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if "__main__" in p.read_text()}
    assert scripts and scripts - ran == set(), "benchmarks that make bench does not run"


def test_every_package_docstring_names_its_modules_and_the_cli_docstring_every_command():
    import argparse
    import importlib

    from movierec_instructor import cli

    for package, folder in PACKAGES.items():
        for init in sorted(folder.rglob("__init__.py")):
            name = ".".join([package, *init.parent.relative_to(folder).parts])
            doc = importlib.import_module(name).__doc__ or ""
            modules = sorted(p.stem for p in init.parent.glob("*.py") if not p.stem.startswith("__"))
            modules += sorted(p.parent.name for p in init.parent.glob("*/__init__.py"))
            missing = [m for m in modules if not re.search(rf"\b{m}\b", doc)]
            assert not missing, f"{name}'s docstring does not name {missing}"
    commands = next(
        a.choices for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    assert len(commands) >= 11
    missing = [c for c in commands if f"movierec {c}" not in cli.__doc__]
    assert not missing, f"the CLI docstring does not show {missing}"


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGES["movierec_instructor"]).parts
    return parts[0] if len(parts) > 1 else path.stem


def test_instructor_rooms_depend_on_each_other_without_a_cycle_or_private_names():
    base = PACKAGES["movierec_instructor"]
    edges: dict[str, set[str]] = {}
    for path in base.rglob("*.py"):
        room = _room(path)
        for module, names in _imports(path):
            if not module.startswith("movierec_instructor."):
                continue
            target = module.split(".")[1]
            if target != room:
                edges.setdefault(room, set()).add(target)
                private = [n for n in names if n.startswith("_")]
                assert not private, f"{path.relative_to(ROOT)} reaches into {module}'s private {private}"
    assert {"grading", "lms", "integrity", "strength", "stats", "course"} <= set(edges) | {"integrity"}
    done: set[str] = set()

    def visit(room: str, path: tuple[str, ...]) -> None:
        assert room not in path, f"rooms import each other in a cycle: {' -> '.join((*path, room))}"
        if room not in done:
            for target in edges.get(room, ()):
                visit(target, (*path, room))
            done.add(room)

    for room in list(edges):
        visit(room, ())


def test_no_module_over_400_lines_and_no_function_over_80():
    for base in PACKAGES.values():
        for path in base.rglob("*.py"):
            source = path.read_text()
            assert len(source.splitlines()) <= 400, (
                f"{path.relative_to(ROOT)} has {len(source.splitlines())} lines"
            )
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    assert length <= 80, f"{path.relative_to(ROOT)}: {node.name} has {length} lines"


def test_tests_are_laid_out_like_the_source():
    """tests/helpers/<package>/ and tests/instructor/<room>/ name packages that exist."""
    for tests, package in (("helpers", "movierec_helpers"), ("instructor", "movierec_instructor")):
        folders = sorted(
            p for p in (ROOT / "tests" / tests).iterdir() if p.is_dir() and p.name != "__pycache__"
        )
        assert folders, f"tests/{tests} has no folder per package"
        for folder in folders:
            assert (PACKAGES[package] / folder.name / "__init__.py").exists(), (
                f"tests/{tests}/{folder.name}/ tests no package of {package}"
            )
            assert list(folder.glob("test_*.py")), f"tests/{tests}/{folder.name}/ holds no tests"
