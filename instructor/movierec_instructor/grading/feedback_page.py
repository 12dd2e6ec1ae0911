"""The student's feedback page: nbgrader's content in an accessible page (WCAG 2.1 AA).

``movierec feedback`` has nbgrader's ``generate_feedback`` render each notebook with the
template ``templates/movierec_feedback`` (nbgrader's feedback template, rewritten): the
page has a language, a title, one ``h1`` (the notebook and its score), the scores by cell
as a navigation list in the page's ``<header>``, the notebook in ``<main>``, and colours
of at least 4.5:1. Two Jinja filters help it: :func:`demote_headings` (the notebook's
own headings one level down, under the page's ``h1``) and :func:`image_alt` (a text
alternative for an image a cell drew). ``tests/browser/test_a11y_pages.py`` checks the
page with axe-core in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "movierec_feedback"
LATE_MARKER = "<!--movierec:late-->"
FILTERS = {
    "demote_headings": "movierec_instructor.grading.feedback_page.demote_headings",
    "image_alt": "movierec_instructor.grading.feedback_page.image_alt",
}
HEADING = re.compile(r"<(/?)h([1-6])(?=[\s>])", flags=re.IGNORECASE)


def exporter_options() -> list[str]:
    """nbgrader's command-line options that render feedback with this package's template."""
    return [
        f"--HTMLExporter.template_name={TEMPLATE}",
        f"--HTMLExporter.extra_template_basedirs={TEMPLATES}",  # one path: a list would be one string
        f"--HTMLExporter.filters={FILTERS!r}",
    ]


def demote_headings(html: str) -> str:
    """``html`` with every heading one level down (``h1`` to ``h2`` ... ``h5`` to ``h6``; ``h6`` stays).

    The page's one ``h1`` names the notebook and its score; a notebook's own title is then
    an ``h2``, and its sections keep their order below it.
    """
    return HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 6)}", html)


def image_alt(output: dict, mimetype: str) -> str:
    """The text alternative of an image output: the notebook's own ``alt``, else what the image is.

    Args:
        output: the cell output (``data``, ``metadata``).
        mimetype: the image's type (``image/png``, ``image/jpeg``).

    Returns:
        The output's ``alt`` metadata if it has one; otherwise a sentence saying that the
        code above drew it, with the output's text form (e.g. Matplotlib's
        ``<Figure size 300x200 with 1 Axes>``) when there is one.
    """
    metadata = output.get("metadata", {})
    given = metadata.get(mimetype, {}).get("alt") or metadata.get("alt")
    if given:
        return str(given)
    text = " ".join(str(output.get("data", {}).get("text/plain", "")).split())[:200]
    return "An image drawn by the code above" + (f": {text}" if text else "")


def add_late_line(page: str, line: str) -> str:
    """The page with the late-submission line in its header (where the template marks it).

    A page without the mark (another template) gets the line at the start of its body.
    """
    if LATE_MARKER in page:
        return page.replace(LATE_MARKER, line, 1)
    body = re.search(r"<body[^>]*>", page, flags=re.IGNORECASE)
    at = body.end() if body else 0
    return page[:at] + line + page[at:]
