"""A real JupyterHub class on loopback (``make test-hub``, as root; issue #37).

JupyterHub with configurable-http-proxy, PAM and local Unix accounts made for the test
(removed after): three students log in with their passwords, each server runs as its
student; an nbgitpuller link puts the course in each home; each student fetches the
assignment, answers (right, wrong, blank), submits and fetches feedback through nbgrader's
assignment-list API (what the lab's Assignments panel calls), while ``movierec
grade-service`` runs as the hub's managed service under its own ``grader`` account. Then: a
student cannot read another's submission, notebook or feedback, and ``movierec export`` has
the three exact scores. Skipped unless ``MOVIEREC_TEST_HUB=1`` and root.
"""

import csv
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.browser_tools import CHROMIUM, chromium, free_port
from tests.instructor.grading.test_cluster import _notebook
from tests.toy_course import toy_course

pytestmark = pytest.mark.skipif(
    os.environ.get("MOVIEREC_TEST_HUB") != "1" or os.geteuid() != 0,
    reason="make test-hub (root: it makes and removes Unix accounts)",
)
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHP = os.environ.get("MOVIEREC_CHP", "configurable-http-proxy")
COURSE_ID, ASSIGNMENT = "toy", "planted"
STUDENTS = {"mrhub-s1": "2 * x", "mrhub-s2": "x + 2", "mrhub-s3": None}
EXPECTED = {"mrhub-s1": 2.0, "mrhub-s2": 0.0, "mrhub-s3": 0.0}
GRADER = "mrhub-grader"
ADMIN_TOKEN = secrets.token_hex(24)
RUNUSER = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or "runuser"


def _run(*args: str, user: str | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    command = [RUNUSER, "-u", user, "--", *args] if user else list(args)
    done = subprocess.run(command, capture_output=True, text=True, **kw)
    assert not check or done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def accounts():
    passwords = {}
    for user in [*STUDENTS, GRADER]:
        _run("userdel", "-r", user, check=False)
        _run("useradd", "-m", "-s", "/bin/bash", user)
        Path(f"/home/{user}").chmod(0o700)  # README: students' homes are private
        passwords[user] = secrets.token_urlsafe(12)
        _run("chpasswd", input=f"{user}:{passwords[user]}\n")
    yield passwords
    for user in [*STUDENTS, GRADER]:
        _run("pkill", "-KILL", "-u", user, check=False)
        _run("userdel", "-r", user, check=False)


def _handout(base: Path) -> str:
    """The course's hand-out as a git repository (what the nbgitpuller link names)."""
    repo = base / "handout"
    repo.mkdir()
    (repo / "README.md").write_text("# Toy course\n")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t",
                 "commit", "-qm", "hand-out"]):  # fmt: skip
        _run("git", "-C", str(repo), *args)
    repo.chmod(0o755)
    (base / "gitconfig").write_text("[safe]\n\tdirectory = *\n")  # the repository is root's
    return f"file://{repo}"


def _hub_config(base: Path, course: Path, exchange: Path, port: int) -> Path:
    config = base / "jupyterhub_config.py"
    service = [sys.executable, "-m", "movierec_instructor.cli", "--course", str(course), "grade-service",
               "--course-id", COURSE_ID, "--exchange", str(exchange), "--workers", "2", "--pool", "2",
               "--imports", "movierec_helpers.exercises"]  # fmt: skip
    text = f"""
c = get_config()
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{CHP!r}]
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {set(STUDENTS)!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{str(BIN / "jupyterhub-singleuser")!r}]
# The hand-out here is a local repository owned by root (a hub's is on a git server).
c.Spawner.environment = {{"GIT_CONFIG_GLOBAL": {str(base / "gitconfig")!r},
                          "JUPYTER_CONFIG_PATH": {str(base / "etc")!r},
                          "PATH": {str(BIN)!r} + ":/usr/bin:/bin"}}
c.Spawner.http_timeout = 120
c.JupyterHub.services = [
    {{"name": "movierec-grader", "user": {GRADER!r}, "cwd": {str(course)!r}, "command": {service!r},
      "environment": {{"PYTHONPATH": {os.environ.get("PYTHONPATH", "")!r}, "MOVIEREC_PROGRESS": "0"}}}},
    {{"name": "test-admin", "api_token": {ADMIN_TOKEN!r}}},
]
c.JupyterHub.load_roles = [{{"name": "tester", "services": ["test-admin"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "tokens", "list:users", "read:users"]}}]
"""
    config.write_text(text)
    return config


@pytest.fixture(scope="module")
def hub(accounts):
    base = Path("/tmp/movierec-test-hub")  # not under pytest's 0700 folder: the accounts must reach it
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o755)
    course, exchange = base / "course", base / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    extra = f"\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
    toy_course(course, ASSIGNMENT, _notebook(), config_extra=extra)
    (base / "etc").mkdir()
    (base / "etc" / "nbgrader_config.py").write_text(f"c = get_config()\n{extra}")
    _run("chown", "-R", GRADER, str(course))
    env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}
    _run(
        sys.executable,
        "-m",
        "nbgrader",
        "release_assignment",
        ASSIGNMENT,
        "--force",
        user=GRADER,
        cwd=course,
        env=env,
    )
    repo = _handout(base)
    port = free_port()
    config = _hub_config(base, course, exchange, port)
    log = open(base / "hub.log", "w")
    process = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(config)], cwd=base, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(180):
        try:
            if requests.get(f"{url}/hub/login", timeout=2).ok:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    yield {"url": url, "course": course, "exchange": exchange, "base": base, "repo": repo}
    process.terminate()
    process.wait(timeout=60)
    log.close()
    shutil.copy(base / "hub.log", "/tmp/movierec-test-hub.log")  # for a failure's post-mortem
    shutil.rmtree(base, ignore_errors=True)


def _login(hub: dict, user: str, password: str):
    """Logs in through the hub's login form (PAM); returns the session and an API token of the user."""
    import requests

    session = requests.Session()
    page = session.get(f"{hub['url']}/hub/login")
    assert page.ok
    done = session.post(
        f"{hub['url']}/hub/login?next=",
        data={"username": user, "password": password, "_xsrf": session.cookies.get("_xsrf", "")},
        timeout=180,
    )
    assert done.ok and f"/{user}" in done.url and "/login" not in done.url, (done.status_code, done.url)
    admin = {"Authorization": f"token {ADMIN_TOKEN}"}
    for _ in range(180):  # the hub spawns the server as the student (spawn-pending meanwhile)
        model = requests.get(f"{hub['url']}/hub/api/users/{user}", headers=admin).json()
        if model.get("server") and not model.get("pending"):
            break
        time.sleep(1)
    assert model.get("server"), model
    token = requests.post(f"{hub['url']}/hub/api/users/{user}/tokens", headers=admin, json={}).json()["token"]
    return session, {"Authorization": f"token {token}"}


def _api(hub, user, headers, method, path, **kw):
    import requests

    done = requests.request(method, f"{hub['url']}/user/{user}/{path}", headers=headers, timeout=180, **kw)
    assert done.ok, (path, done.status_code, done.text[:500])
    return done


def _answer(hub, user, headers, body):
    path = f"api/contents/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    model = _api(hub, user, headers, "GET", path).json()
    nb = nbformat.from_dict(model["content"])
    if body is not None:
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answers")
        cell.source = f"def double(x):\n    return {body}"
    _api(hub, user, headers, "PUT", path, json={"type": "notebook", "content": nb})


def test_a_class_hands_in_from_the_hub_and_each_student_fetches_their_own_feedback(hub, accounts):
    sessions = {}
    for user, body in STUDENTS.items():
        session, headers = _login(hub, user, accounts[user])
        sessions[user] = headers
        pull = f"git-pull/api?repo={hub['repo']}&branch=main&targetpath=course"
        pulled = _api(hub, user, headers, "GET", pull)  # the nbgitpuller link's work
        assert Path(f"/home/{user}/course/README.md").exists(), pulled.text[-1500:]
        action = {"assignment_id": ASSIGNMENT, "course_id": COURSE_ID}
        assert _api(hub, user, headers, "POST", "assignments/fetch", data=action).json()["success"]
        _answer(hub, user, headers, body)
        assert _api(hub, user, headers, "POST", "assignments/submit", data=action).json()["success"]
    pages = {}
    deadline = time.monotonic() + 900
    while len(pages) < len(STUDENTS) and time.monotonic() < deadline:
        for user, headers in sessions.items():
            if user in pages:
                continue
            action = {"assignment_id": ASSIGNMENT, "course_id": COURSE_ID}
            _api(hub, user, headers, "POST", "assignments/fetch_feedback", data=action)
            found = sorted(Path(f"/home/{user}/{ASSIGNMENT}/feedback").glob(f"*/{ASSIGNMENT}.html"))
            if found:
                pages[user] = found[0].read_text(encoding="utf-8")
        time.sleep(3)
    assert set(pages) == set(STUDENTS), (hub["base"] / "hub.log").read_text()[-3000:]
    assert "2.0 of 2.0 points" in pages["mrhub-s1"]
    assert "✗ doubles (0 of 1): double(3) is 6" in pages["mrhub-s2"]
    assert "✗ doubles (0 of 1): NotImplementedError" in pages["mrhub-s3"]
    # One student cannot reach another's hand-in, notebook or feedback.
    inbound, feedback = hub["exchange"] / COURSE_ID / "inbound", hub["exchange"] / COURSE_ID / "feedback"
    for path in (inbound, feedback, Path(f"/home/mrhub-s1/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")):
        assert _run("ls", str(path), user="mrhub-s2", check=False).returncode != 0, path
    export = hub["course"] / "grades.csv"
    _run(sys.executable, "-m", "movierec_instructor.cli", "--course", str(hub["course"]), "export", "--to",
         str(export), user=GRADER, env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"})  # fmt: skip
    with open(export, newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores == EXPECTED


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test-browser installs it)"
)
def test_a_student_in_chromium_logs_in_pulls_the_course_and_reads_only_their_own_feedback(hub, accounts):
    """The same class in a browser (after the test above): the login form, the nbgitpuller link,
    the lab's Assignments panel, the fetched feedback page, another student's server refused."""
    user = "mrhub-s1"
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{hub['url']}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", accounts[user])
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{user}/**")
        pull = f"git-pull?repo={hub['repo']}&branch=main&urlpath=lab/tree/course/README.md"
        page.goto(f"{hub['url']}/hub/user-redirect/{pull}")
        page.wait_for_url("**/lab/tree/course/README.md**")
        page.get_by_role("menuitem", name="Nbgrader").click()
        page.get_by_text("Assignment List").click()
        panel = page.locator("#submitted_assignments_list")
        panel.get_by_text(ASSIGNMENT).first.wait_for()
        stamp = sorted(Path(f"/home/{user}/{ASSIGNMENT}/feedback").iterdir())[-1].name
        page.goto(f"{hub['url']}/user/{user}/files/{ASSIGNMENT}/feedback/{stamp}/{ASSIGNMENT}.html")
        assert "2.0 of 2.0 points" in page.content()
        other = page.goto(f"{hub['url']}/user/mrhub-s2/lab")
        assert other.status == 403 or f"/user/{user}/" in page.url, (other.status, page.url)
