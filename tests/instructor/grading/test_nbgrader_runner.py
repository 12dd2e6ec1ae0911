"""nbgrader's commands run in a fork of a process that imported nbgrader once (the hub's workers).

The same commands in the same toy course, once as new interpreters and once forked after
:func:`~movierec_instructor.grading.nbgrader_runner.preload`, give the same exit statuses and
output; a process with a second thread never forks.
"""

import json
import subprocess
import sys

import pytest

from movierec_instructor.grading.nbgrader_runner import tool_env
from tests.instructor.grading.test_cluster import _notebook
from tests.toy_course import toy_course

ASSIGNMENT = "planted"
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="forks only where Linux counts threads"
)

SCRIPT = r"""
import json, shutil, sys, threading
from pathlib import Path
from movierec_instructor.grading import nbgrader_runner as runner

course, mode = Path(sys.argv[1]), sys.argv[2]
if mode == "fork":
    runner.preload()
seen = {"can_fork": runner.can_fork()}
commands = {"list": ("db", "assignment", "list"), "unknown": ("autograde", "no-such-assignment")}
for name, args in commands.items():
    done = runner.run_nbgrader(course, *args, log_level="INFO")
    seen[name] = [done.returncode, done.stdout, "no-such-assignment" in done.stderr]
shutil.rmtree(course / "notebooks" / "planted")  # the first step makes it again
steps = runner.start_nbgrader(
    [runner.nbgrader_command("generate_assignment", "planted", "--force"),
     runner.nbgrader_command("autograde", "no-such-assignment"),
     runner.nbgrader_command("generate_assignment", "never-reached")],
    course, runner.tool_env(),
)
seen["steps"] = [type(steps).__name__, steps.wait(), (course / "notebooks" / "planted").is_dir()]
threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
seen["can_fork_with_a_thread"] = runner.can_fork()
print(json.dumps(seen))
"""


def _run(tmp_path, mode):
    course = tmp_path / mode
    toy_course(course, ASSIGNMENT, _notebook())
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(course), mode], env=tool_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_forked_nbgrader_answers_as_a_new_one(tmp_path):
    fresh, forked = _run(tmp_path, "subprocess"), _run(tmp_path, "fork")
    assert fresh["can_fork"] is False and forked["can_fork"] is True
    assert forked["list"] == fresh["list"] and forked["list"][0] == 0 and "planted" in forked["list"][1]
    assert forked["unknown"][0] == fresh["unknown"][0] != 0
    assert forked["unknown"][2] is fresh["unknown"][2] is True  # nbgrader's complaint, captured
    # Steps stop at the first failure, like `A && B && C`: the first ran, the last did not.
    assert fresh["steps"] == ["Popen", fresh["steps"][1], True] and fresh["steps"][1] != 0
    assert forked["steps"] == ["ForkedSteps", forked["steps"][1], True] and forked["steps"][1] != 0
    assert forked["can_fork_with_a_thread"] is False
