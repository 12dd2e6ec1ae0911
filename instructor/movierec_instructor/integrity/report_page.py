"""The one shell of the HTML reports an instructor reads: similarity, ``movierec stats``, test strength.

Every report page has a language (``<html lang="en">``), a ``<title>``, a ``<header>`` with
the page's one ``h1`` and its summary, the report in ``<main>``, tables with a
``<caption>`` and ``<th scope>``, text and links of at least 4.5:1 contrast (WCAG 2.1 AA),
and the Content-Security-Policy of :func:`~movierec_instructor.integrity.untrusted.add_csp`
(no script, nothing loaded from elsewhere). Values that come from students are escaped
here unless a caller passes them as :class:`Html` it made safe itself.
``tests/browser/test_a11y_pages.py`` checks the pages with axe-core in Chromium.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable, Sequence

from movierec_instructor.integrity.untrusted import add_csp

# Text #1b1b1b on white is 17:1, links #0a4f8f 8.3:1, the muted grey #4a4a4a 8.9:1.
STYLE = (
    "body{margin:0;font:15px/1.5 -apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "color:#1b1b1b;background:#fff}"
    "header,main{max-width:1200px;margin:0 auto;padding:0.6em 1.5em;box-sizing:border-box}"
    "header{border-bottom:1px solid #8c8c8c}h1{font-size:1.6em;margin:0.3em 0}h2{font-size:1.2em}"
    "a{color:#0a4f8f;text-decoration:underline}a:focus{outline:3px solid #1f4e79;outline-offset:2px}"
    "table{border-collapse:collapse;margin:0.5em 0}caption{text-align:left;font-weight:bold;padding:0.3em 0}"
    "th,td{border:1px solid #8c8c8c;padding:2px 8px;vertical-align:top}thead th{background:#f0f0f0}"
    "td.number{text-align:right}.muted{color:#4a4a4a}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:13px}"
)


class Html(str):
    """Markup that a caller built and escaped itself: :func:`table` puts it in as it is."""


def cell(value: object) -> str:
    """``value`` as the content of a table cell: escaped, unless it is :class:`Html`."""
    return value if isinstance(value, Html) else html.escape(str(value))


def table(
    caption: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    row_headers: bool = True,
    numeric: Collection[str] = (),
) -> Html:
    """A table that a screen reader can read: a caption, column headers, and row headers.

    Args:
        caption: what the table shows (plain text).
        columns: the column names (plain text), each a ``<th scope="col">``.
        rows: the rows' values, escaped unless :class:`Html`.
        row_headers: the first value of each row is its ``<th scope="row">``.
        numeric: the columns whose cells are right-aligned.

    Returns:
        The ``<table>`` element.
    """
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for i, (column, value) in enumerate(zip(columns, row)):
            if i == 0 and row_headers:
                cells.append(f'<th scope="row">{cell(value)}</th>')
            else:
                align = ' class="number"' if column in numeric else ""
                cells.append(f"<td{align}>{cell(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Html(
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def page(title: str, summary: str, body: str, *, style: str = "") -> str:
    """A whole report page, with its Content-Security-Policy.

    Args:
        title: the page's title and ``h1`` (plain text).
        summary: HTML under the ``h1``, in the page's ``<header>`` (what the report is, how to read it).
        body: the report, put in ``<main>``; its headings start at ``h2``.
        style: the report's own CSS rules, after the shared ones.

    Returns:
        The HTML document.
    """
    text = html.escape(title)
    return add_csp(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text}</title><style>{STYLE}{style}</style></head>"
        f"<body><header><h1>{text}</h1>{summary}</header><main>{body}</main></body></html>"
    )
