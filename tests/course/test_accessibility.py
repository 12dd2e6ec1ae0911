"""The notebooks read well without sight: one h1, headings in order, links that say where they go,
and every chart in every stored output described in words (both axes named)."""

import html
import re
from pathlib import Path

import nbformat
import pytest

from movierec_helpers.charts.interactive import JUPYTERLAB_MIMETYPE

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "notebooks").glob("*/*.ipynb"))
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
IMAGE = re.compile(r"!\[([^\]]*)\]\(")
VAGUE = {"here", "click here", "this", "link", "this link", "more", "read more", "see here"}


def _markdown_lines(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            in_code = False
            for line in cell.source.splitlines():
                if line.lstrip().startswith("```"):
                    in_code = not in_code
                elif not in_code:
                    yield line


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_one_h1_headings_in_order_links_that_say_where_they_go(path):
    nb = nbformat.read(path, as_version=4)
    levels, problems = [], []
    for line in _markdown_lines(nb):
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if levels and level > levels[-1] + 1:
                problems.append(f"h{level} '{heading.group(2)}' follows an h{levels[-1]}: a level skipped")
            levels.append(level)
        for text, target in LINK.findall(line):
            if text.strip().lower() in VAGUE or text.strip() == target:
                problems.append(f"link text {text!r} does not say where {target} goes")
        problems += [
            f"an image without alt text in: {line.strip()[:60]}" for alt in IMAGE.findall(line) if not alt
        ]
    assert levels.count(1) == 1, f"{_name(path)} has {levels.count(1)} h1 headings: a notebook has one title"
    assert levels and levels[0] == 1, "the notebook starts with its h1 title"
    assert not problems, "\n".join(problems)


def _chart_outputs(nb):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if JUPYTERLAB_MIMETYPE in data or "image/png" in data:
                yield index, data


STORED = [p for p in NOTEBOOKS if p.parts[-3] == "solutions"]


@pytest.mark.parametrize("path", STORED, ids=_name)
def test_every_chart_in_the_stored_outputs_says_what_it_shows(path):
    nb = nbformat.read(path, as_version=4)
    charts = list(_chart_outputs(nb))
    for index, data in charts:
        text = "".join(data.get("text/plain", ""))
        where = f"{_name(path)} cell {index}"
        if JUPYTERLAB_MIMETYPE in data:
            description = data[JUPYTERLAB_MIMETYPE].get("description", "")
            assert "x axis:" in description and "y axis:" in description, (
                f"{where}: no axes in {description!r}"
            )
            assert text.startswith(description), f"{where}: the text fallback is not the description"
        else:
            assert text.startswith("A figure of") and "x axis:" in text and "y axis:" in text, where
            alts = [
                html.unescape(a)
                for a in re.findall(r'<img [^>]*alt="([^"]*)"', "".join(data.get("text/html", "")))
            ]
            assert alts == [text], f"{where}: the image's alt text is not its description: {alts}"


def test_the_stored_notebooks_hold_the_courses_charts():
    """The test above reads every chart: there are charts to read (a Vega-Lite or PNG output each)."""
    charts = [data for path in STORED for _, data in _chart_outputs(nbformat.read(path, as_version=4))]
    assert sum(JUPYTERLAB_MIMETYPE in d for d in charts) >= 15 and sum("image/png" in d for d in charts) >= 7
