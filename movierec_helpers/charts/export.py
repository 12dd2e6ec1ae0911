"""Charts saved as SVG or PNG files that keep their description.

Rendering a Vega-Lite chart to a static SVG or PNG (vl-convert) drops its ``description``.
:func:`save_chart` puts it back: in an SVG as ``role="img"``, ``aria-label`` and a ``<title>``
(what a screen reader announces, and a browser shows on hover); in a PNG as its
``Description`` text chunk, with the same sentence returned for an ``<img alt>``.
"""

from __future__ import annotations

import html
import re
import struct
import zlib
from pathlib import Path

import altair as alt
import vl_convert

from movierec_helpers.charts.describe import describe_vegalite


def _described_svg(svg: str, description: str) -> str:
    label = html.escape(description, quote=True)
    svg = re.sub(r"^<svg\b", f'<svg role="img" aria-label="{label}"', svg, count=1)
    return re.sub(r"(<svg\b[^>]*>)", rf"\1<title>{html.escape(description)}</title>", svg, count=1)


def _png_with_text(png: bytes, keyword: str, text: str) -> bytes:
    """The PNG with an iTXt chunk (UTF-8 text) inserted after its header chunk."""
    data = keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8")
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, crc
    return png[:end_of_header] + chunk + png[end_of_header:]


def save_chart(chart: alt.TopLevelMixin | dict, path: str | Path, scale: float = 2.0) -> str:
    """Saves a chart as ``.svg`` or ``.png`` with its description kept; returns the description.

    Args:
        chart: an Altair chart or its Vega-Lite specification.
        path: where to write; the suffix chooses the format.
        scale: PNG only: pixels per chart unit (2 is sharp on high-density screens).

    Returns:
        The description (use it as the ``alt`` of an ``<img>`` showing the file).

    Raises:
        ValueError: the suffix is neither ``.svg`` nor ``.png``.
    """
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    description = describe_vegalite(spec)
    spec = {**spec, "description": description}
    path = Path(path)
    if path.suffix.lower() == ".svg":
        path.write_text(_described_svg(vl_convert.vegalite_to_svg(spec), description))
    elif path.suffix.lower() == ".png":
        path.write_bytes(
            _png_with_text(vl_convert.vegalite_to_png(spec, scale=scale), "Description", description)
        )
    else:
        raise ValueError(f"Cannot save a chart as {path.name!r}: use a .svg or .png file name.")
    return description
