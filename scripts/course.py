"""The course's two commands without `make`: set up and open the lab, or set up and test.

    python scripts/course.py lab      # Windows: py scripts\\course.py lab
    python scripts/course.py notebook # the same course in Jupyter Notebook 7 (screen readers)
    python scripts/course.py test
    python scripts/course.py setup    # only the environment (.venv), the kernel and the lab settings
    python scripts/course.py check NOTEBOOK   # run a notebook as grading will, before handing it in

The Makefile's `make lab` / `make test` call this file, so every platform does the same.
Set-up is idempotent: it reinstalls only when pyproject.toml or constraints.txt changed (a
hash in `.venv/.movierec-installed`). It runs with any Python the course supports (3.11 to
3.13), creates `.venv` with it, installs the pinned environment (`constraints.txt`) and,
when pip cannot, prints pip's own reason. Only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".movierec-installed"
SUPPORTED = ((3, 11), (3, 13))
# No news feed or update check: classrooms are often offline, and the pop-up distracts.
LAB_OPTIONS = ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
NBVAL = [
    "--nbval",
    "--nbval-sanitize-with",
    "tests/nbval_sanitize.cfg",
    "--nbval-cell-timeout=300",
    "-p",
    "tests.nbval_tolerance",
]
# One pytest worker per core (at most four): most tests wait on a kernel or a sandbox most of
# the time. A file's tests stay on one worker, so a module's fixture (a graded class) is made once.
PARALLEL = ["--numprocesses=auto", "--maxprocesses=4", "--dist=loadfile"]


def venv_python() -> Path:
    """The environment's interpreter (``Scripts\\python.exe`` on Windows)."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def venv_bin() -> Path:
    return venv_python().parent


def _install_inputs() -> list[Path]:
    names = ["pyproject.toml", "constraints.txt", "instructor/pyproject.toml", "course.toml"]
    return [ROOT / n for n in names if (ROOT / n).exists()]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in _install_inputs():
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _run(command: list, *, what: str, quiet: bool = True, **kwargs) -> None:
    """Runs a set-up step; on failure prints its own output (pip's reason) and exits."""
    done = subprocess.run([str(c) for c in command], cwd=ROOT, capture_output=quiet, text=True, **kwargs)
    if done.returncode:
        if quiet:
            tail = (done.stdout + done.stderr).strip().splitlines()
            print("\n".join(tail[-40:]), file=sys.stderr)
        sys.exit(f"{what} failed (exit status {done.returncode}); the lines above say why.")


def check_python() -> None:
    """Refuses an interpreter outside the supported range, saying which ones work."""
    version = sys.version_info[:2]
    if not SUPPORTED[0] <= version <= SUPPORTED[1]:
        sys.exit(
            f"Python {version[0]}.{version[1]} is not supported: use Python 3.11, 3.12 or 3.13 "
            "(e.g. `make PYTHON=python3.12 lab`, or `py -3.12 scripts\\course.py lab` on Windows)."
        )


TRACK_EXTRAS = {"tensorflow": "tensorflow", "pytorch": "torch"}


def extras() -> list[str]:
    """The course's extras: the lab and the test tools, and one framework per track of ``course.toml``.

    A course of the PyTorch track installs no TensorFlow, and the other way round.
    """
    config = ROOT / "course.toml"
    tracks = tomllib.loads(config.read_text()).get("tracks", []) if config.exists() else ["tensorflow"]
    return ["lab", "dev"] + [TRACK_EXTRAS[t] for t in TRACK_EXTRAS if t in tracks]


def setup() -> Path:
    """Creates and fills ``.venv`` if needed; registers the course kernel(s) and the lab settings."""
    check_python()
    if not venv_python().exists():
        print(f"creating {VENV.name} with Python {sys.version.split()[0]}")
        _run([sys.executable, "-m", "venv", VENV], what="Creating the virtual environment")
    fingerprint = _fingerprint()
    if not STAMP.exists() or STAMP.read_text().strip() != fingerprint:
        python = venv_python()
        print("installing the course (a few minutes the first time)")
        _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], what="Upgrading pip")
        packages = ["-e", f".[{','.join(extras())}]"]
        if (ROOT / "instructor" / "pyproject.toml").exists():
            packages += ["-e", "./instructor"]
        _run(
            [python, "-m", "pip", "install", "--quiet", "-c", "constraints.txt", *packages],
            what="Installing the course's packages",
        )
        STAMP.write_text(fingerprint)
    python = venv_python()
    _run([python, "scripts/install_kernel.py"], what="Registering the movierec kernel")
    if (ROOT / "instructor" / "pyproject.toml").exists():
        _run([python, "-m", "movierec_instructor.integrity.kernels"], what="Registering the grading kernel")
    _run([python, "scripts/lab_settings.py"], what="Writing the lab settings")
    return python


def lab() -> int:
    """Sets up, then opens JupyterLab on ``notebooks/`` (progress bars on)."""
    setup()
    options = list(LAB_OPTIONS)
    if os.name != "nt" and os.geteuid() == 0:
        options.append("--allow-root")
    env = {**os.environ, "MOVIEREC_PROGRESS": "1"}
    return subprocess.call(
        [str(venv_bin() / "jupyter"), "lab", "--notebook-dir=notebooks", *options], cwd=ROOT, env=env
    )


def notebook() -> int:
    """Sets up, then opens the course in Jupyter Notebook 7 (one document per tab; screen-reader friendly)."""
    setup()
    options = ["--notebook-dir=notebooks"]
    if os.name != "nt" and os.geteuid() == 0:
        options.append("--allow-root")
    env = {**os.environ, "MOVIEREC_PROGRESS": "1"}
    return subprocess.call([str(venv_bin() / "jupyter"), "notebook", *options], cwd=ROOT, env=env)


def _test_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{venv_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
        "MOVIEREC_PROGRESS": os.environ.get("MOVIEREC_PROGRESS", "0"),
        **(extra or {}),
    }


def lint() -> int:
    """ruff over the project's Python code: its rules (the 110-character lines included) and its format."""
    setup()
    folders = ["movierec_helpers", "instructor", "benchmarks", "tests", "scripts"]
    ruff = str(venv_bin() / "ruff")
    return subprocess.call([ruff, "check", *folders], cwd=ROOT, env=_test_env()) or subprocess.call(
        [ruff, "format", "--check", *folders], cwd=ROOT, env=_test_env()
    )


def test(fast: bool = False) -> int:
    """Sets up, then runs the suite: lint and every test, the notebooks through nbval (or the fast part)."""
    python = setup()
    if not (ROOT / "solutions").exists():  # a student hand-out: its own set-up tests
        return subprocess.call([str(python), "-m", "pytest", "-q", "tests"], cwd=ROOT, env=_test_env())
    if fast:
        return subprocess.call(
            [
                str(python),
                "-m",
                "pytest",
                "-q",
                "-m",
                "not slow",
                "tests",
                "--ignore=tests/browser",
                "--ignore=tests/slurm",
            ],
            cwd=ROOT,
            env=_test_env(),
        )
    pytest = [str(python), "-m", "pytest", "-q", "--ignore=tests/browser", "--ignore=tests/slurm"]
    # The slowest tests go to CI's log: the test budget is watched there.
    parallel = [*pytest, "tests", "solutions", "-m", "not alone", "--durations=25", *PARALLEL, *NBVAL]
    alone = [*pytest, "tests", "-m", "alone", "--durations=5"]
    calls = (subprocess.call(command, cwd=ROOT, env=_test_env()) for command in (parallel, alone))
    return lint() or max(list(calls))  # both passes run; lint first


def test_perturbed() -> int:
    """The notebooks again with other CPU kernels and one thread: stored outputs must not depend on the CPU.

    TensorFlow: oneDNN off, one intra-op thread. PyTorch: its scalar kernels instead of the
    CPU's vector ones (``ATEN_CPU_CAPABILITY=default``), one OpenMP thread.
    """
    python = setup()
    return subprocess.call(
        [str(python), "-m", "pytest", "-q", "solutions", *PARALLEL, *NBVAL],
        cwd=ROOT,
        env=_test_env(
            {
                "TF_ENABLE_ONEDNN_OPTS": "0",
                "TF_NUM_INTRAOP_THREADS": "1",
                "ATEN_CPU_CAPABILITY": "default",
                "OMP_NUM_THREADS": "1",
            }
        ),
    )


def find_python(version: str) -> str:
    """An interpreter of ``version`` (e.g. "3.13"): on PATH, or one of pyenv's."""
    candidates = [
        f"python{version}",
        *sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")),
    ]
    for candidate in candidates:
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip() == str(tuple(int(x) for x in version.split("."))):
            return candidate
    sys.exit(f"No Python {version} found (tried {', '.join(candidates)}).")


def _baseline(constraints: Path) -> dict[str, str]:
    pins = {}
    for line in constraints.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_colab() -> int:
    """Colab's versions (constraints-colab.txt) with Python 3.13: installing changes none; every notebook
    grades."""
    venv = ROOT / ".venv-colab"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    constraints = ROOT / "constraints-colab.txt"
    baseline = _baseline(constraints)
    if not python.exists():
        _run([find_python("3.13"), "-m", "venv", venv], what="Creating the Colab-like environment")
        _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], what="Upgrading pip")
        _run(
            [python, "-m", "pip", "install", "--quiet", *(f"{n}=={v}" for n, v in baseline.items())],
            what="Installing Colab's versions",
        )
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "-e", ".[tensorflow]"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr)
        sys.exit("pip cannot install the course over Colab's versions; the lines above say why.")
    report = json.loads(done.stdout)
    changed = {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in report["install"]
    }
    moved = {n: (baseline[n], v) for n, v in changed.items() if n in baseline and v != baseline[n]}
    if moved:
        print(
            "installing the course would change Colab's packages: "
            + ", ".join(f"{n} {old} -> {new}" for n, (old, new) in sorted(moved.items())),
            file=sys.stderr,
        )
        return 1
    print(
        f"installing the course changes none of Colab's {len(baseline)} packages "
        f"(adds {', '.join(sorted(n for n in changed if n != 'movierec')) or 'nothing'})"
    )
    _run([python, "-m", "pip", "install", "--quiet", "-e", ".[tensorflow]"], what="Installing the course")
    return subprocess.call(
        [str(python), "tests/compat/run_notebooks.py", "--kernel", "python3", "--track", "tensorflow"],
        cwd=ROOT,
        env={**os.environ, "MOVIEREC_PROGRESS": "0"},
    )


def test_oldest() -> int:
    """The declared floors: the oldest Python and the lowest version of every direct dependency; every
    notebook grades."""
    venv = ROOT / ".venv-oldest"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        _run([find_python("3.11"), "-m", "venv", venv], what="Creating the oldest environment")
        _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "uv"], what="Installing uv")
    _run(
        [
            python,
            "-m",
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            python,
            "--resolution",
            "lowest-direct",
            "-e",
            ".[tensorflow]",
        ],
        what="Installing the course at its floors",
    )
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True
    )
    versions = {p["name"].lower(): p["version"] for p in json.loads(listed.stdout)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["tensorflow"]
    names = [d.split(">")[0].split("=")[0].strip().lower() for d in declared]
    print("floors installed: " + ", ".join(f"{n} {versions.get(n, '?')}" for n in names))
    return subprocess.call(
        [str(python), "tests/compat/run_notebooks.py", "--kernel", "python3", "--track", "tensorflow"],
        cwd=ROOT,
        env={**os.environ, "MOVIEREC_PROGRESS": "0"},
    )


def check(notebook: str) -> int:
    """Runs a notebook as grading will and says what would cost marks."""
    python = setup()
    return subprocess.call([str(python), "-m", "movierec_helpers.check", notebook], cwd=Path.cwd())


def test_slurm() -> int:
    """A one-node Slurm on this machine (root), then the class graded through two Slurm jobs (dask-
    jobqueue)."""
    python = setup()
    if subprocess.call(["sh", str(ROOT / "tests" / "slurm" / "start_slurm.sh")]) != 0:
        return 1
    _run(
        [python, "-m", "pip", "install", "-q", "-e", "./instructor[slurm]", "-c", "constraints.txt"],
        what="Installing dask-jobqueue",
    )
    return subprocess.call([str(python), "-m", "pytest", "-q", "tests/slurm"], cwd=ROOT, env=_test_env())


def main(argv: list[str]) -> int:
    commands = {
        "setup": lambda: setup() and 0,
        "lab": lab,
        "notebook": notebook,
        "lint": lint,
        "test": test,
        "test-fast": lambda: test(fast=True),
        "test-perturbed": test_perturbed,
        "test-colab": test_colab,
        "test-oldest": test_oldest,
        "test-slurm": test_slurm,
    }
    if len(argv) == 2 and argv[0] == "check":
        return check(argv[1])
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
