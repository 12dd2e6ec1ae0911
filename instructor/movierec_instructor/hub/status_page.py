"""The grading service's page on the hub: each student sees where their hand-ins are.

When JupyterHub starts the service with a ``url`` (it then sets ``JUPYTERHUB_SERVICE_URL``), the
service serves one page at ``/services/<name>/`` from a thread of its own. A visitor logs in
with the hub's OAuth (:class:`jupyterhub.services.auth.HubOAuthenticated`; the hub's users need
the ``access:services!service=<name>`` scope) and sees their own hand-ins, newest first, each
in words: waiting (and how many wait before it), being graded, graded with the score, kept but
not graded yet and why, replaced by a later hand-in, or refused and why. Instructors named
with ``--instructors`` see every student's. The page reads the journal read-only; it never
changes a grade, and a page that cannot be served (no JupyterHub installed) leaves grading alone.
"""

from __future__ import annotations

import html
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from movierec_instructor.integrity.untrusted import CSP

COLUMNS = "key, student, assignment, timestamp, state, seen, reason, score"


def hand_ins(journal: Path, student: str | None) -> list[dict]:
    """The journal's hand-ins of ``student`` (everyone's when None), newest first, with ``ahead``.

    ``ahead``: for a waiting hand-in, how many hand-ins wait that were seen before it.
    """
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=10)
    try:
        where, args = ("where student = ?", (student,)) if student is not None else ("", ())
        rows = db.execute(f"select {COLUMNS} from submissions {where} order by seen desc", args).fetchall()
        found = [dict(zip([c.strip() for c in COLUMNS.split(",")], row, strict=True)) for row in rows]
        for row in found:
            if row["state"] == "pending":
                query = "select count(*) from submissions where state = 'pending' and seen < ?"
                row["ahead"] = db.execute(query, (row["seen"],)).fetchone()[0]
    finally:
        db.close()
    return found


def state_in_words(row: dict) -> str:
    """What happens to one hand-in, in a sentence (no colour, no icon carries meaning)."""
    reason = (row.get("reason") or "").strip()[:300]
    state = row["state"]
    if state == "pending":
        ahead = row.get("ahead") or 0
        before = f" ({ahead} hand-in{'s' * (ahead != 1)} before it)." if ahead else "."
        return "Waiting to be graded" + before
    if state == "grading":
        return "Being graded now."
    if state == "graded":
        score = row.get("score")
        points = f"{score:g} points" if isinstance(score, int | float) else "a score"
        return f"Graded: {points}. Fetch Feedback in the Assignments list shows why."
    if state == "not_graded":
        return (
            f"Kept as you handed it in, not graded yet: {reason or 'the grading machine failed'}. "
            "It will be graded again; you need not hand in again."
        )
    if state == "superseded":
        return "Replaced by your later hand-in (only the latest is graded)."
    if state == "refused":
        return f"Refused: {reason or 'it could not be read'}."
    return state


def render(rows: list[dict], user: str, everyone: bool) -> str:
    """The page (HTML, its own Content Security Policy, no script) for ``user``."""
    e = html.escape
    head = "<th scope='col'>Student</th>" if everyone else ""
    body = []
    for row in rows:
        handed = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(row["seen"])) if row.get("seen") else ""
        student = f"<td>{e(row['student'])}</td>" if everyone else ""
        body.append(
            f"<tr>{student}<th scope='row'>{e(row['assignment'])}</th><td>{e(handed)}</td>"
            f"<td>{e(state_in_words(row))}</td></tr>"
        )
    whose = "every student's hand-ins" if everyone else "your hand-ins"
    table = (
        f"<table><caption>{e(whose.capitalize())}, newest first</caption><thead><tr>{head}"
        "<th scope='col'>Assignment</th><th scope='col'>Seen by the grader</th>"
        f"<th scope='col'>State</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        if rows
        else "<p>No hand-in yet. Submit from the Assignments list in the lab; it shows up here.</p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Grading: where your hand-ins are</title><style>"
        "body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;color:#1a1a1a;background:#fff}"
        "header,main{max-width:60rem;margin:0 auto;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #767676;padding:.4rem;text-align:left}"
        "caption{text-align:left;font-weight:bold;padding:.4rem 0}"
        "</style></head><body>"
        f"<header><p>Signed in to the hub as {e(user)}.</p></header>"
        f"<main><h1>Grading: where {e(whose)} are</h1>"
        "<p>Each hand-in is graded on its own, usually within seconds. Reload this page to see "
        "its state now; the feedback itself comes through Fetch Feedback in the lab.</p>"
        f"{table}</main></body></html>"
    )


def _application(journal: Path, prefix: str, instructors: set[str]):
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from tornado import web

    class Page(HubOAuthenticated, web.RequestHandler):
        @web.authenticated
        def get(self) -> None:
            user = self.get_current_user()["name"]
            everyone = user in instructors
            rows = hand_ins(journal, None if everyone else user) if journal.exists() else []
            self.set_header("Content-Security-Policy", CSP)
            self.set_header("Cache-Control", "no-store")
            self.write(render(rows, user, everyone))

    return web.Application(
        [
            (prefix, Page),
            (prefix.rstrip("/"), web.RedirectHandler, {"url": prefix}),
            (prefix + "oauth_callback", HubOAuthCallbackHandler),
        ],
        cookie_secret=os.urandom(32),
    )


def start(journal: Path, instructors: set[str]) -> threading.Thread | None:
    """Serves the page from a daemon thread when JupyterHub gave the service a URL; else None."""
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    if not url:
        return None
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    address = urlparse(url)

    def serve() -> None:
        import asyncio

        async def main() -> None:
            _application(journal, prefix, instructors).listen(address.port or 80, address.hostname or "")
            await asyncio.Event().wait()

        try:
            asyncio.run(main())
        except Exception as exc:  # noqa: BLE001 - grading goes on without the page
            print(f"movierec grade-service: no status page ({type(exc).__name__}: {exc})", file=sys.stderr)

    thread = threading.Thread(target=serve, name="status-page", daemon=True)
    thread.start()
    return thread
