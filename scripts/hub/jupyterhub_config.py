"""A JupyterHub for one movierec class on one machine (README, "A class on a JupyterHub").

Run as root (each student's server runs as that student's own Unix user):
    MOVIEREC_COURSE=/srv/movierec/course MOVIEREC_COURSE_ID=movierec \
        /opt/movierec/.venv/bin/jupyterhub -f scripts/hub/jupyterhub_config.py
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821

BIN = Path(sys.prefix) / "bin"
COURSE = os.environ.get("MOVIEREC_COURSE", "/srv/movierec/course")
COURSE_ID = os.environ.get("MOVIEREC_COURSE_ID", "movierec")
EXCHANGE = os.environ.get("MOVIEREC_EXCHANGE", "/srv/nbgrader/exchange")
GRADER = os.environ.get("MOVIEREC_GRADER", "grader")  # the Unix user the grading service runs as

c.JupyterHub.bind_url = os.environ.get("MOVIEREC_HUB_URL", "http://127.0.0.1:8000")
# Local accounts (PAM). NativeAuthenticator: "native" (students sign up, the instructor approves);
# LTI 1.3 from the LMS: "ltiauthenticator.lti13.authenticator.LTI13Authenticator" (README).
c.JupyterHub.authenticator_class = os.environ.get("MOVIEREC_AUTHENTICATOR", "pam")
c.Authenticator.allowed_users = set(filter(None, os.environ.get("MOVIEREC_STUDENTS", "").split(",")))
c.Authenticator.admin_users = set(filter(None, os.environ.get("MOVIEREC_ADMINS", "").split(",")))
c.JupyterHub.spawner_class = "localprocess"  # each server as its student's Unix user
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"MOVIEREC_PROGRESS": "0"}
c.JupyterHub.services = [
    {
        "name": "movierec-grader",
        "user": GRADER,  # its own user: it can read the exchange's inbound, students cannot
        "cwd": COURSE,
        "command": [
            str(BIN / "movierec"),
            "--course",
            COURSE,
            "grade-service",
            "--course-id",
            COURSE_ID,
            "--exchange",
            EXCHANGE,
            "--workers",
            "2",
            "--pool",
            "2",
            "--instructors",
            os.environ.get("MOVIEREC_ADMINS", ""),
        ],  # fmt: skip
        # Its page (each student's hand-ins, in words) at /services/movierec-grader/, behind the hub's OAuth.
        "url": os.environ.get("MOVIEREC_GRADER_URL", "http://127.0.0.1:10101"),
        "oauth_no_confirm": True,
    }
]
# Every user may open the grading service's page (it shows each one only their own hand-ins).
c.JupyterHub.load_roles = [
    {"name": "user", "scopes": ["self", "access:services!service=movierec-grader"]},
]
