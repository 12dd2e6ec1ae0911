"""A real JupyterHub class on loopback (``make test-hub``, as root; issue #37).

JupyterHub with configurable-http-proxy, PAM and local Unix accounts made for the test
(removed after), each student's server spawned as that student, and ``movierec
grade-service`` as the hub's managed service under its own ``grader`` account. Three students,
each in their own headless Chromium context (Playwright), log in through the hub's login form,
open the nbgitpuller link, open Nbgrader > Assignment List in the lab, click Fetch, open the
fetched notebook from the panel, click into the answer cell and type the answer with the
keyboard (right, wrong, blank), save with Ctrl+S, click Submit, then click Fetch Feedback until
the panel offers "(view feedback)" and open the feedback page in the lab; each page must show
that student's own checks and answer and no other's. Then: a student's browser is refused the
other student's server, a student cannot list the exchange's inbound or feedback folder nor
read another's notebook (checked as the Unix account: the exchange lies outside the lab), and
``movierec export`` has the three exact scores. Skipped unless ``MOVIEREC_TEST_HUB=1`` and root.
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
TIMEOUT_MS = 180_000  # a loaded 2-core machine: a lab starts slowly
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
      "url": "http://127.0.0.1:{free_port()}", "oauth_no_confirm": True,
      "environment": {{"PYTHONPATH": {os.environ.get("PYTHONPATH", "")!r}, "MOVIEREC_PROGRESS": "0"}}}},
]
# Students may open the grading service's page (it shows each one their own hand-ins).
c.JupyterHub.load_roles = [
    {{"name": "user", "scopes": ["self", "access:services!service=movierec-grader"]}},
]
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


def _open_lab(browser, hub: dict, user: str, password: str):
    """A page of the student's own browser (own cookies): the hub's login form, then the nbgitpuller link."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{hub['url']}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/**")  # past spawn-pending: the server runs as the student
    pull = f"git-pull?repo={hub['repo']}&branch=main&targetpath=course&urlpath=lab/tree/course/README.md"
    page.goto(f"{hub['url']}/hub/user-redirect/{pull}")
    # the link's page names the lab URL in its query: wait for the lab itself, once pulled
    page.wait_for_url(lambda url: "/git-pull" not in url and "/lab/tree/course/README.md" in url)
    assert Path(f"/home/{user}/course/README.md").exists()
    page.get_by_role("tab", name="README.md").wait_for()  # the lab has opened what the link names
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_text("Assignment List").click()
    page.get_by_role("tab", name="Assignments").click()
    return page


def _answer_in_the_lab(page, user: str, body: str | None) -> None:
    """Fetch in the Assignments panel, open the notebook, type the answer, save, submit."""
    page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT).get_by_role(
        "button", name="Fetch", exact=True
    ).click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first
    # the toggle's name ends in its caret icon's glyph: not an exact name
    fetched.get_by_role("button", name=ASSIGNMENT).click()  # shows its notebooks
    fetched.get_by_role("link", name=ASSIGNMENT, exact=True).click()
    cell = page.locator(".jp-Notebook .jp-Cell", has_text="NotImplementedError")
    editor = cell.locator(".cm-content")
    editor.click()
    if body is not None:
        page.keyboard.press("Control+A")  # the cell's text (the editor has the focus)
        page.keyboard.type("def double(x):")
        page.keyboard.press("Enter")
        # four spaces: valid Python whether or not the editor also indents the new line
        page.keyboard.type(f"    return {body}")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+S")
    saved = Path(f"/home/{user}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    want = "NotImplementedError" if body is None else f"return {body}"
    for _ in range(120):
        nb = nbformat.read(saved, as_version=4)
        answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answers")
        if want in answer.source and not page.locator(".jp-mod-dirty").count():
            break
        time.sleep(1)
    assert want in answer.source, answer.source
    page.get_by_role("tab", name="Assignments").click()
    page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT).first.get_by_role(
        "button", name="Submit", exact=True
    ).click()
    page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first.wait_for()


def _feedback_in_the_lab(page) -> str | None:
    """Fetch Feedback once; once it came, opens the page from the panel and returns its text."""
    submitted = page.locator("#submitted_assignments_list > .list_item", has_text=ASSIGNMENT).first
    submitted.get_by_role("button", name="Fetch Feedback").click()
    submitted.get_by_role("button", name="Fetch Feedback").wait_for()  # the list came back
    view = page.locator("#submitted_assignments_list").get_by_text("(view feedback)")
    if not view.count():
        return None
    view.first.click()  # the file browser goes to the feedback folder
    page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html").dblclick()
    frame = page.frame_locator(".jp-HTMLViewer iframe")
    frame.get_by_text("points").first.wait_for()
    return frame.locator("body").inner_text()


def _class_in_the_lab(browser, hub: dict, accounts: dict, pages: dict) -> dict[str, str]:
    """Each student answers and submits in their lab, then fetches feedback until all three have it."""
    for user, body in STUDENTS.items():
        pages[user] = _open_lab(browser, hub, user, accounts[user])
        _answer_in_the_lab(pages[user], user, body)
    feedback = {}
    deadline = time.monotonic() + 900
    while len(feedback) < len(STUDENTS) and time.monotonic() < deadline:
        for user in sorted(set(STUDENTS) - set(feedback)):
            text = _feedback_in_the_lab(pages[user])
            if text is not None:
                feedback[user] = text
        time.sleep(5)
    return feedback


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test-browser installs it)"
)
def test_a_class_hands_in_from_the_lab_and_each_student_reads_only_their_own_feedback(hub, accounts):
    with chromium() as browser:
        pages = {}
        try:
            feedback = _class_in_the_lab(browser, hub, accounts, pages)
        except Exception:
            for user, page in pages.items():  # what each student saw, for a failure's post-mortem
                page.screenshot(path=f"/tmp/movierec-test-hub-{user}.png")
                Path(f"/tmp/movierec-test-hub-{user}.html").write_text(page.content())
            raise
        assert set(feedback) == set(STUDENTS), (hub["base"] / "hub.log").read_text()[-3000:]
        for user, page in pages.items():  # the service's page, through the hub's OAuth: their own only
            page.goto(f"{hub['url']}/services/movierec-grader/")
            page.get_by_role("heading", level=1).wait_for()
            text = page.locator("body").inner_text()
            points = f"{EXPECTED[user]:g}"
            assert f"Signed in to the hub as {user}." in text and f"Graded: {points} points." in text, text
            assert all(other not in text for other in STUDENTS if other != user), text
        assert "2.0 of 2.0 points" in feedback["mrhub-s1"], feedback["mrhub-s1"]
        assert "✗ doubles (0 of 1): double(3) is 6" in feedback["mrhub-s2"], feedback["mrhub-s2"]
        assert "✗ doubles (0 of 1): NotImplementedError" in feedback["mrhub-s3"], feedback["mrhub-s3"]
        for user, text in feedback.items():  # each page shows its own answer, nobody else's
            for other, body in STUDENTS.items():
                if body is not None:
                    assert (f"return {body}" in text) == (other == user), (user, other, text)
        # Another student's server (their notebook, their feedback page) is refused to the browser.
        stamp = sorted(Path(f"/home/mrhub-s1/{ASSIGNMENT}/feedback").iterdir())[-1].name
        theirs = f"{hub['url']}/user/mrhub-s1/files/{ASSIGNMENT}/feedback/{stamp}/{ASSIGNMENT}.html"
        page = pages["mrhub-s2"]
        for url in (theirs, f"{hub['url']}/user/mrhub-s1/lab"):
            other = page.goto(url)
            assert other.status == 403 or "/user/mrhub-s2/" in page.url, (url, other.status, page.url)
    # The exchange lies outside every student's lab (the server's root is the home), so whether a
    # student can list it is checked as that Unix account.
    inbound, fed = hub["exchange"] / COURSE_ID / "inbound", hub["exchange"] / COURSE_ID / "feedback"
    for path in (inbound, fed, Path(f"/home/mrhub-s1/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")):
        assert _run("ls", str(path), user="mrhub-s2", check=False).returncode != 0, path
    export = hub["course"] / "grades.csv"
    _run(sys.executable, "-m", "movierec_instructor.cli", "--course", str(hub["course"]), "export", "--to",
         str(export), user=GRADER, env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"})  # fmt: skip
    with open(export, newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores == EXPECTED
