"""Autograding a class of crafted submissions: each case gets its exact score, nobody else suffers.

A small dedicated assignment (NumPy only, so each notebook grades in about a second) holds
three graded exercises worth 2 + 3 + 1 points. Every submission below is one way a
notebook can be wrong, broken or hostile; the test docstrings name the defence. All of them
are graded in one `movierec autograde --jobs 2` run (workers in their own course copies,
grades merged into one gradebook), then exported to grades.csv.
"""

import csv
import hashlib
import json
import os
import socket
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from movierec_instructor.grading import autograde as grading
from movierec_instructor.grading.results import export_grades, feedback
from movierec_instructor.integrity.tamper_scan import tampering
from movierec_instructor.lms.collect import collect
from tests.toy_course import toy_course

pytestmark = pytest.mark.slow
ASSIGNMENT = "fixture"
ROOT = Path(__file__).resolve().parents[3]

SETUP = "import numpy as np\nfrom movierec_helpers.exercises import own_work"
MEAN = """def column_means(x):
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=float).mean(axis=0)
    ### END SOLUTION"""
MEAN_TESTS = """with own_work(column_means):
    np.testing.assert_allclose(column_means([[1, 2], [3, 4]]), [2, 3])
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(column_means([[1, 2, 3]]), [1, 2, 3])
### END HIDDEN TESTS"""
COSINE = """def cosine(u, v):
    ### BEGIN SOLUTION
    u, v = np.asarray(u, float), np.asarray(v, float)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    ### END SOLUTION"""
COSINE_TESTS = """with own_work(cosine):
    assert abs(cosine([1, 0], [1, 1]) - 2 ** -0.5) < 1e-9
### BEGIN HIDDEN TESTS
assert abs(cosine([3, 0], [1, 1]) - 2 ** -0.5) < 1e-9, "normalize the query too"
### END HIDDEN TESTS"""
MSE = """def mse(a, b):
    ### BEGIN SOLUTION
    return float(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2))
    ### END SOLUTION"""
MSE_TESTS = '''with own_work(mse):
    assert abs(mse([1, 2, 3], [1, 2, 5]) - 4 / 3) < 1e-9, "the MEAN of squared errors"'''

CELLS = [
    ("setup", SETUP, None),
    ("mean", MEAN, None),
    ("mean_tests", MEAN_TESTS, 2),
    ("cosine", COSINE, None),
    ("cosine_tests", COSINE_TESTS, 3),
    ("mse", MSE, None),
    ("mse_tests", MSE_TESTS, 1),
]
FULL = 6


def _source_notebook():
    cells = []
    for grade_id, source, points in CELLS:
        cell = new_code_cell(source)
        meta = {
            "schema_version": 3,
            "grade_id": grade_id,
            "locked": points is not None or grade_id == "setup",
            "solution": "BEGIN SOLUTION" in source,
            "grade": points is not None,
        }
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "movierec",
        "display_name": "Python 3 (movierec)",
        "language": "python",
    }
    return nb


def _solved(**replace):
    """The solution notebook with some cells' sources replaced (by grade_id)."""
    nb = _source_notebook()
    for cell in nb.cells:
        gid = cell.metadata["nbgrader"]["grade_id"]
        if gid in replace:
            cell.source = replace[gid]
    return nb


def _without(nb, *grade_ids):
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
    return nb


WRONG = {
    "mean": "def column_means(x):\n    return np.asarray(x, dtype=float).mean(axis=1)",
    "cosine": "def cosine(u, v):\n    u, v = np.asarray(u, float), np.asarray(v, float)\n"
    "    return float(u @ v / np.linalg.norm(v))",
    "mse": "def mse(a, b):\n    return float(np.sum((np.asarray(a, float) - np.asarray(b, float)) ** 2))",
}


def _all_wrong(extra_setup=""):
    return _solved(setup=SETUP + "\n" + extra_setup, **WRONG)


def _tests_edited(nb, fn):
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta.get("grade"):
            fn(cell)
    return nb


def _reordered():
    nb = _solved()
    order = [0, 2, 1, 3, 4, 5, 6]  # mean_tests before the definition of column_means
    nb.cells = [nb.cells[i] for i in order]
    return nb


def _duplicated():
    nb = _solved()
    nb.cells.insert(3, nbformat.from_dict(json.loads(json.dumps(nb.cells[2]))))
    return nb


def _to_markdown(cell):
    cell.cell_type = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


# student -> (how to write the submission, expected score, defence)
CASES = {
    "solution": (lambda p: nbformat.write(_solved(), p), FULL, "reference"),
    "blank": (None, 0, "the release notebook raises NotImplementedError in every exercise"),
    "wrong_transposed": (
        lambda p: nbformat.write(_solved(mean=WRONG["mean"]), p),
        4,
        "hidden + visible tests",
    ),
    "wrong_sum": (lambda p: nbformat.write(_solved(mse=WRONG["mse"]), p), 5, "visible test checks the mean"),
    "wrong_cosine": (
        lambda p: nbformat.write(_solved(cosine=WRONG["cosine"]), p),
        3,
        "hidden test with a non-unit query",
    ),
    "tests_deleted": (
        lambda p: nbformat.write(_without(_all_wrong(), "mean_tests", "cosine_tests", "mse_tests"), p),
        0,
        "OverwriteCells.add_missing_cells puts deleted test cells back",
    ),
    "tests_pass": (
        lambda p: nbformat.write(_tests_edited(_all_wrong(), lambda c: setattr(c, "source", "pass")), p),
        0,
        "OverwriteCells restores test cell sources from the gradebook",
    ),
    "tests_markdown": (
        lambda p: nbformat.write(_tests_edited(_all_wrong(), _to_markdown), p),
        0,
        "OverwriteCells restores the cell type",
    ),
    "tests_duplicated": (
        lambda p: nbformat.write(_duplicated(), p),
        FULL,
        "pre-check: repeated graded cells are dropped, so each counts once",
    ),
    "tests_reordered": (
        lambda p: nbformat.write(_reordered(), p),
        4,
        "tests run where the student put them: before the definition they fail",
    ),
    "patch_np_testing": (
        lambda p: nbformat.write(_all_wrong("np.testing.assert_allclose = lambda *args, **kwargs: None"), p),
        0,
        "static scan: assigns np.testing.*",
    ),
    "patch_builtins": (
        lambda p: nbformat.write(
            _all_wrong("import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})"), p
        ),
        0,
        "static scan: assigns builtins.*",
    ),
    "patch_helper": (
        lambda p: nbformat.write(
            _all_wrong("import contextlib\n@contextlib.contextmanager\ndef own_work(*fns):\n    yield"), p
        ),
        0,
        "static scan: redefines the test helper",
    ),
    "fake_module": (
        lambda p: nbformat.write(_all_wrong("open('numpy.py', 'w').write('testing = None')"), p),
        0,
        "static scan: writes a .py file",
    ),
    "patch_tf_module": (
        lambda p: nbformat.write(_all_wrong("import sys\nsys.modules['tensorflow'] = None"), p),
        0,
        "static scan: changes sys.modules",
    ),
    "infinite_loop": (
        lambda p: nbformat.write(_solved(mean="def column_means(x):\n    while True:\n        pass"), p),
        4,
        "per-cell timeout: the hanging test cell fails alone",
    ),
    "sleeps": (
        lambda p: nbformat.write(
            _solved(cosine="import time\ndef cosine(u, v):\n    time.sleep(10 ** 6)"), p
        ),
        3,
        "per-cell timeout",
    ),
    "os_exit": (
        lambda p: nbformat.write(_solved(setup=SETUP + "\nimport os\nos._exit(0)"), p),
        0,
        "static scan: ends the kernel",
    ),
    "sys_exit": (
        lambda p: nbformat.write(_solved(setup=SETUP + "\nimport sys\nsys.exit()"), p),
        0,
        "static scan: ends the kernel",
    ),
    "memory_bomb": (
        lambda p: nbformat.write(
            _solved(
                mse="def mse(a, b):\n    hog = []\n    while True:\n        hog.append(np.ones(10 ** 7))"
            ),
            p,
        ),
        5,
        "kernel address-space limit: MemoryError fails that test alone",
    ),
    "floods_output": (
        lambda p: nbformat.write(_solved(setup=SETUP + "\nprint('\\n'.join(map(str, range(2_000_000))))"), p),
        FULL,
        "LimitOutput keeps the stored output small",
    ),
    "not_json": (lambda p: p.write_text("this is not a notebook {"), 0, "pre-check: rejected, graded blank"),
    "empty_file": (lambda p: p.write_text(""), 0, "pre-check: rejected, graded blank"),
    "old_format": (
        lambda p: p.write_text(nbformat.writes(nbformat.convert(_solved(), 3), version=3)),
        FULL,
        "pre-check: upgraded to format 4",
    ),
    "wrong_name": (
        lambda p: nbformat.write(_solved(), p.with_name("Untitled.ipynb")),
        FULL,
        "pre-check: the only notebook is renamed",
    ),
    "extra_notebook": (
        lambda p: (nbformat.write(_solved(), p), nbformat.write(_all_wrong(), p.with_name("scratch.ipynb"))),
        FULL,
        "pre-check: extra notebooks are reported, not graded",
    ),
    "renamed_folder": (
        lambda p: nbformat.write(_solved(), p.parent.parent / "fixture-final" / p.name),
        FULL,
        "pre-check: the folder holding the notebook is renamed back",
    ),
}


# Hostile submissions: each tries to get past the OS sandbox (movierec_instructor/sandbox.py).
# The exploit runs first; the honest part that follows decides the score it deserves.
READ_SOURCE = """import glob, json, os
def steal(paths):
    for path in paths:
        try:
            cells = json.load(open(path))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for cell in cells:
            src = "".join(cell["source"])
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "mean" and "BEGIN SOLUTION" in src:
                exec(src, globals())
                return path
candidates = glob.glob("../../../**/*.ipynb", recursive=True)
cwds = []
for pid in os.listdir("/proc"):
    try:
        cwds.append(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        pass
for top in ["/", "/tmp", os.path.expanduser("~"), *cwds, *os.environ.values()]:
    if not os.path.isdir(str(top)):
        continue
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "usr", "dev", "lib", ".venv")]
        if dirpath.count("/") > 9:
            dirnames[:] = []
        candidates += [os.path.join(dirpath, f) for f in filenames if f.endswith(".ipynb")]
stolen = steal(candidates)"""

READ_GRADEBOOK = """import os, sqlite3
for top in ["../../..", "/", "/tmp"]:
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "usr", "dev", "lib", ".venv")]
        if dirpath.count("/") > 9:
            dirnames[:] = []
        if "gradebook.db" in filenames:
            try:
                db = sqlite3.connect(os.path.join(dirpath, "gradebook.db"))
                db.execute("UPDATE grade SET manual_score = 100")
                db.commit()
            except sqlite3.Error:
                pass"""

WRITE_SITE_PACKAGES = """import os
target = os.path.join(np.__path__[0], "testing", "_private", "utils" + ".py")
try:
    with open(target, "a") as fh:
        fh.write("\\nassert_allclose = lambda *args, **kwargs: None\\n")
except OSError:
    pass
try:
    with open(os.path.join(os.path.dirname(np.__path__[0]), "sitecustomize" + ".py"), "w") as fh:
        fh.write("import numpy.testing\\nnumpy.testing.assert_allclose = lambda *a, **k: None\\n")
except OSError:
    pass"""

WRITE_OTHERS = """import glob
for path in glob.glob("../../../*/*/*.ipynb") + glob.glob("../../../../submitted/*/*/*.ipynb"):
    try:
        open(path, "w").write("{}")
    except OSError:
        pass"""

FORK_BOMB = """import os, time
forks = 0
try:
    for _ in range(3000):
        if os.fork() == 0:
            time.sleep(0.5)
            os.execv("/bin/true", ["true"])
        forks += 1
except OSError:
    pass
for _ in range(forks):
    os.wait()
print(f"forks: {forks}")"""

FILL_DISK = """chunk = b"x" * 2 ** 20
for target in ("filler.bin", "/tmp/filler.bin"):
    try:
        with open(target, "wb") as fh:
            for _ in range(4096):
                fh.write(chunk)
    except OSError:
        pass"""

NETWORK = {"port": 0}


def _exploit(code, honest):
    """A submission whose first answer cell (not locked, so nbgrader keeps it) runs ``code``."""
    nb = _solved() if honest else _solved(**WRONG)
    cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "cosine")
    cell.source = code + "\n\n" + cell.source
    return nb


def _network_cheat(path):
    """Connects to a port the test listens on; on success, it defines the right answers."""
    code = (
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {NETWORK['port']}), timeout=3)"
        ".sendall(b'answers?')\n    connected = True\nexcept OSError:\n    connected = False\n"
        "if connected:\n    "
        + MEAN.replace("\n", "\n    ").replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
        + "\n    "
        + MSE.replace("\n", "\n    ").replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
    )
    nb = _solved(**WRONG)
    cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "mse")
    cell.source = cell.source + "\n\n" + code
    nbformat.write(nb, path)


HOSTILE = {
    "read_source": (
        lambda p: nbformat.write(_solved(mean=READ_SOURCE), p),
        4,
        "sandbox: the source notebook is not visible by relative path, /proc or os.walk",
    ),
    "read_gradebook": (
        lambda p: nbformat.write(_exploit(READ_GRADEBOOK, honest=False), p),
        0,
        "sandbox: the gradebook is not visible",
    ),
    "write_site_packages": (
        lambda p: nbformat.write(_exploit(WRITE_SITE_PACKAGES, honest=False), p),
        0,
        "sandbox: the Python environment is read-only",
    ),
    "write_others": (
        lambda p: nbformat.write(_exploit(WRITE_OTHERS, honest=True), p),
        FULL,
        "sandbox: other students' folders are not visible",
    ),
    "network": (_network_cheat, 0, "sandbox: no network"),
    "fork_bomb": (
        lambda p: nbformat.write(_exploit(FORK_BOMB, honest=True), p),
        FULL,
        "sandbox: process limit; the notebook still runs",
    ),
    "fill_disk": (
        lambda p: nbformat.write(_exploit(FILL_DISK, honest=True), p),
        FULL,
        "sandbox: size-limited scratch folders",
    ),
}
CASES.update(HOSTILE)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("tamper")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    NETWORK["port"] = listener.getsockname()[1]
    site_file = Path(np.__file__).parent / "testing" / "_private" / "utils.py"
    site_before = hashlib.sha256(site_file.read_bytes()).hexdigest()
    # The student release, made by nbgrader.
    db = toy_course(
        course, ASSIGNMENT, _source_notebook(), config_extra="\nc.ExecutePreprocessor.timeout = 5\n"
    )
    blank = course / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert blank.exists()
    # Most submissions arrive in a zip of <student>_<notebook> files, as an LMS exports them.
    archive = course / "downloads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in ("solution", "blank", "wrong_sum"):
            path = course / "scratch" / f"{student}_{ASSIGNMENT}.ipynb"
            path.parent.mkdir(exist_ok=True)
            if student == "blank":
                path.write_text(blank.read_text())
            else:
                CASES[student][0](path)
            zf.write(path, path.name)
    collect(course, ASSIGNMENT, archive, fmt="plain")
    for student, (write, _, _) in CASES.items():
        target = course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if student == "renamed_folder":
            (target.parent.parent / "fixture-final").mkdir()
            target.parent.rmdir()
        write(target)
    os.environ["MOVIEREC_KERNEL_MEMORY_GB"] = "3"
    try:
        findings = grading.autograde(course, ASSIGNMENT, jobs=2, db=db)
        findings += grading.autograde(course, ASSIGNMENT, jobs=2, db=db)  # a re-run must not double grades
    finally:
        del os.environ["MOVIEREC_KERNEL_MEMORY_GB"]
    grades_csv = export_grades(course, course / "grades.csv", db=db)
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        scores = {s.student_id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
        submissions = len(gb.assignment_submissions(ASSIGNMENT))
    try:
        listener.accept()
        connections = 1
    except BlockingIOError:
        connections = 0
    listener.close()
    site_after = hashlib.sha256(site_file.read_bytes()).hexdigest()
    return {
        "scores": scores,
        "submissions": submissions,
        "findings": findings,
        "csv": list(csv.DictReader(open(grades_csv))),
        "course": course,
        "connections": connections,
        "site_unchanged": site_before == site_after,
        "sitecustomize": (Path(np.__file__).parent.parent / "sitecustomize.py").exists(),
    }


@pytest.mark.parametrize("student", sorted(CASES))
@pytest.mark.sandbox
def test_exact_score(graded, student):
    """Each case's defence is in CASES; the score is exact whatever the others did."""
    expected, defence = CASES[student][1], CASES[student][2]
    assert graded["scores"][student] == expected, f"{student} ({defence})"


@pytest.mark.sandbox
def test_gradebook_and_grades_csv_are_complete(graded):
    assert graded["submissions"] == len(CASES), "one submission per student, even after a re-run"
    rows = {r["student_id"]: float(r["score"]) for r in graded["csv"] if r["assignment"] == ASSIGNMENT}
    assert rows == {s: float(c[1]) for s, c in CASES.items()}


@pytest.mark.sandbox
def test_report_names_every_repair_and_rejection(graded):
    problems = {}
    for f in graded["findings"]:
        problems.setdefault(f.student, []).append(f"{f.problem} -> {f.action}")
    for student in (
        "patch_np_testing",
        "patch_builtins",
        "patch_helper",
        "fake_module",
        "patch_tf_module",
        "os_exit",
        "sys_exit",
    ):
        assert any("tampers with the tests" in p for p in problems[student]), student
    assert any("not a valid notebook" in p for p in problems["not_json"])
    assert any("not a valid notebook" in p for p in problems["empty_file"])
    assert any("format 3" in p for p in problems["old_format"])
    assert any("'Untitled.ipynb'" in p for p in problems["wrong_name"])
    assert any("extra notebook 'scratch.ipynb'" in p for p in problems["extra_notebook"])
    assert any("'fixture-final'" in p for p in problems["renamed_folder"])
    kept = graded["course"] / "submitted" / "patch_np_testing" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb.rejected"
    assert kept.exists(), "a rejected submission is kept for review"


@pytest.mark.sandbox
def test_sandbox_keeps_the_outside_untouched(graded):
    assert graded["connections"] == 0, "a submission reached a port on the grader's loopback"
    assert graded["site_unchanged"] and not graded["sitecustomize"], "a submission wrote into site-packages"
    for student in ("solution", "wrong_sum"):
        path = graded["course"] / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert nbformat.read(path, as_version=4).cells, f"{student}'s submission was overwritten"


@pytest.mark.sandbox
def test_fork_bomb_hits_the_process_limit(graded):
    from movierec_instructor.integrity.sandbox import Limits

    if not os.access("/sys/fs/cgroup/pids", os.W_OK):
        pytest.skip("no writable pids cgroup here: the process limit is RLIMIT_NPROC, not enforced for root")
    path = graded["course"] / "autograded" / "fork_bomb" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = "".join(
        o.get("text", "")
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    forks = int(text.split("forks: ")[1].split()[0])
    assert 0 < forks < Limits().processes, f"{forks} processes were started"


def test_grading_refuses_without_a_sandbox(tmp_path, monkeypatch):
    from movierec_instructor.integrity import sandbox

    monkeypatch.setattr(sandbox, "bwrap_candidates", lambda: [])
    with pytest.raises(sandbox.SandboxUnavailable, match="--no-sandbox"):
        grading.autograde(tmp_path, ASSIGNMENT)


@pytest.mark.sandbox
def test_hidden_tests_never_reach_the_release(graded):
    text = (graded["course"] / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "normalize the query too" not in text


@pytest.mark.sandbox
def test_feedback_without_hidden_tests(graded):
    feedback(graded["course"], ASSIGNMENT, db=f"sqlite:///{graded['course'] / 'gradebook.db'}")

    def page(student):
        return (graded["course"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()

    html = page("wrong_cosine")
    assert "cosine([3, 0]" not in html, "the failed hidden assert is gone from the source and the traceback"
    assert "&lt;hidden test&gt;" in html and "normalize the query too" in html, "the hint stays"
    assert "column_means" in html
    assert "stopped after the time limit of 5 s" in page("infinite_loop")
    # The bomb ends by MemoryError, or, on a loaded machine, by the 5 s limit first: either is explained.
    bomb = page("memory_bomb")
    assert "ran out of memory (the limit is" in bomb or "stopped after the time limit of 5 s" in bomb


def test_static_scan_leaves_ordinary_code_alone():
    ordinary = (
        "import numpy as np\nimport pandas as pd\npd.options.display.max_rows = 10\nx = np.ones(3)\nx[0] = 2"
    )
    assert tampering(ordinary) == []
    assert tampering("import numpy as tf") == ["binds tf to numpy (line 1)"]


@pytest.mark.sandbox
def test_lms_exports_have_the_documented_columns(graded, tmp_path):
    from movierec_instructor.lms.export import export_lms

    db = f"sqlite:///{graded['course'] / 'gradebook.db'}"
    mapping = tmp_path / "ids.csv"
    mapping.write_text("lms_id,student_id\n4242,solution\n")
    canvas = list(
        csv.reader(
            open(export_lms(graded["course"], tmp_path / "canvas.csv", "canvas", mapping=mapping, db=db))
        )
    )
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert canvas[1] == ["Points Possible", "", "", "", "", str(FULL)]
    rows = {r[2]: r for r in canvas[2:]}
    assert rows["solution"][1] == "4242"
    assert {s: float(r[5]) for s, r in rows.items()} == {s: float(c[1]) for s, c in CASES.items()}
    moodle = list(csv.reader(open(export_lms(graded["course"], tmp_path / "moodle.csv", "moodle", db=db))))
    assert moodle[0] == ["ID number", f"{ASSIGNMENT} (Real)"]
    assert {r[0]: float(r[1]) for r in moodle[1:]} == {s: float(c[1]) for s, c in CASES.items()}


def test_static_scan_guards_the_partial_credit_helper():
    assert tampering("PartialCredit.score = property(lambda self: 99)") == [
        "assigns PartialCredit.score (line 1)"
    ]
    assert tampering("class PartialCredit:\n    score = 99") == ["redefines PartialCredit (line 1)"]
