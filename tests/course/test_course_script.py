"""scripts/course.py: the two commands without make (issue #22)."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("course_script", ROOT / "scripts" / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failed_install_prints_pips_own_reason(script, capsys):
    failing = [
        sys.executable,
        "-c",
        "import sys; print('ERROR: ResolutionImpossible: soupsieve 4.1.2 "
        "requires Python >=3.11.5'); sys.exit(1)",
    ]
    with pytest.raises(SystemExit, match="Installing the course's packages failed"):
        script._run(failing, what="Installing the course's packages")
    assert "soupsieve 4.1.2 requires Python >=3.11.5" in capsys.readouterr().err


def test_unsupported_python_is_refused_with_the_ones_that_work(script, monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 10, 12, "final", 0))
    with pytest.raises(SystemExit, match="use Python 3.11, 3.12 or 3.13"):
        script.check_python()


def test_reinstall_only_when_the_install_files_change(script, tmp_path, monkeypatch):
    for name in ("pyproject.toml", "constraints.txt"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(script, "ROOT", tmp_path)
    before = script._fingerprint()
    assert script._fingerprint() == before
    (tmp_path / "constraints.txt").write_text((ROOT / "constraints.txt").read_text() + "extra==1.0\n")
    assert script._fingerprint() != before


@pytest.mark.parametrize(
    ("tracks", "expected"),
    [
        ('["pytorch"]', ["lab", "dev", "torch"]),
        ('["tensorflow"]', ["lab", "dev", "tensorflow"]),
        ('["tensorflow", "pytorch"]', ["lab", "dev", "tensorflow", "torch"]),
        (None, ["lab", "dev", "tensorflow"]),
    ],
)
def test_a_course_installs_only_its_tracks_frameworks(script, tmp_path, monkeypatch, tracks, expected):
    if tracks is not None:
        (tmp_path / "course.toml").write_text(f"tracks = {tracks}\n")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    assert script.extras() == expected
