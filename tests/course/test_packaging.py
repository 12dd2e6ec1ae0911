import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = (
        project["dependencies"] + extras["lab"] + extras["dev"] + extras["tensorflow"] + extras["torch"]
    )
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = [d for d in pip_section if not d.startswith("-e")]
    assert sorted(map(_normalise, conda_pins)) == sorted(map(_normalise, declared))
    assert "-e ." in pip_section
    assert "-e ./instructor" in pip_section, "the conda environment is the whole repository's"


def test_constraints_pin_every_direct_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(
        _normalise(line.replace("==", " ==", 1))
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    instructor = tomllib.loads((ROOT / "instructor/pyproject.toml").read_text())["project"]
    own = {"movierec"}
    extras = project["optional-dependencies"]
    for requirement in (
        project["dependencies"]
        + extras["lab"]
        + extras["dev"]
        + extras["tensorflow"]
        + extras["torch"]
        + extras["bench"]
        + extras["hub"]
        + [r for r in instructor["dependencies"] if _normalise(r)[0] not in own]
    ):
        name, _ = _normalise(requirement)
        assert name in pins, f"{name} has no pinned version in constraints.txt"


def test_the_hub_is_an_extra_never_part_of_the_student_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    hub = {_normalise(r)[0] for r in extras["hub"]}
    assert {"jupyterhub", "nbgitpuller"} <= hub
    student = project["dependencies"] + extras["lab"] + extras["tensorflow"] + extras["torch"]
    assert not hub & {_normalise(r)[0] for r in student}


def test_bundled_data_is_package_data():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "datasets/ml-100k/*" in project["tool"]["setuptools"]["package-data"]["movierec_helpers"]
    files = {p.name for p in (ROOT / "movierec_helpers/datasets/ml-100k").iterdir()}
    assert {"ml-100k.inter.gz", "ml-100k.item.gz", "ml-100k.user.gz", "SHA256SUMS", "README.txt"} <= files


def test_student_package_does_not_depend_on_grading_tools():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_normalise(r)[0] for r in project["dependencies"]}
    assert "nbgrader" not in names, "nbgrader belongs to the instructor package"
    instructor = tomllib.loads((ROOT / "instructor/pyproject.toml").read_text())["project"]
    assert instructor["scripts"]["movierec"] == "movierec_instructor.cli:main"


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^(make \w+)\s+#.*whole test suite", readme, flags=re.M)
    assert match, "the README names its test command"
    return match.group(1)


def test_ci_entry_points_call_the_readme_test_command():
    command = _readme_test_command()
    assert command == "make test"
    ci_run = (ROOT / ".ci/run").read_text()
    assert re.search(rf"^\s*{command}\s*$", ci_run, flags=re.M)
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert {"ubuntu-24.04", "macos-14"} <= set(job["strategy"]["matrix"]["os"]), (
        "Linux x86-64 and macOS arm64"
    )
    assert command in [step.get("run") for step in job["steps"]]


def test_each_track_is_an_extra_and_the_shared_library_needs_neither():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_normalise(r)[0] for r in project["dependencies"]}
    assert not base & {"tensorflow", "keras", "torch", "tf-keras"}, "a framework in the shared dependencies"
    extras = project["optional-dependencies"]
    assert {_normalise(r)[0] for r in extras["tensorflow"]} == {"tensorflow", "keras"}
    assert {_normalise(r)[0] for r in extras["torch"]} == {"torch"}


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution a set of requirements pulls in, read from the installed metadata (offline)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    done: set[tuple[str, str]] = set()
    pending = [(Requirement(r), "") for r in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = requirement.name.lower().replace("_", "-")
        wanted = {(name, e) for e in requirement.extras} | {(name, "")}
        if wanted <= done:
            continue
        done |= wanted
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue  # an optional platform package (e.g. a CUDA wheel) not installed here
        pending += [(Requirement(line), e) for line in requires for e in {""} | set(requirement.extras)]
    return {name for name, _ in done}


@pytest.mark.parametrize(
    ("track", "extra", "absent"),
    [("pytorch", "torch", {"tensorflow", "keras", "tf-keras"}), ("tensorflow", "tensorflow", {"torch"})],
)
def test_a_track_course_installs_no_other_framework(track, extra, absent):
    """What `make` installs for a one-track course folder, followed through every dependency."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    instructor = tomllib.loads((ROOT / "instructor/pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    own = {"movierec"}
    requirements = (
        project["dependencies"]
        + extras["lab"]
        + extras["dev"]
        + extras[extra]
        + [r for r in instructor["dependencies"] if _normalise(r)[0] not in own]
    )
    installed = _closure(requirements)
    assert extra in installed, f"the {track} course installs its framework"
    assert not installed & absent, f"the {track} course pulls in {sorted(installed & absent)}"
