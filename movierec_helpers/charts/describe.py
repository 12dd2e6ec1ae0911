"""Charts described in words, from their own specification and data.

Every chart the course shows carries a description that a screen reader reads and a
terminal prints: what is plotted, both axes with their ranges, what colour or shape
separates, and a few notable values. It is generated from the chart itself (a Vega-Lite
specification, or a Matplotlib figure), so it cannot drift from what is drawn.

Values a chart declares as machine-dependent are named but never quoted: the coordinates of
a 2-D map (``usermeta["movierec"]["layout_fields"]``: only neighbourhoods mean something) and
wall-clock timings (``timing_fields``). Every other number is rounded to 3 significant digits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

MARKS = {
    "bar": "bar chart",
    "line": "line chart",
    "circle": "scatter plot",
    "point": "scatter plot",
    "square": "scatter plot",
    "area": "area chart",
    "rect": "heat map",
    "tick": "strip plot",
    "rule": "rules",
}
COMPOSITIONS = ("hconcat", "vconcat", "concat")
TABLE_ROWS = 12  # a data table this small is printed under the text fallback


def _number(value: Any) -> str:
    if isinstance(value, np.generic):  # NumPy scalars read like Python's: 1,682, not 1.68e+03
        value = value.item()
    if isinstance(value, (int, bool)) or (
        isinstance(value, float) and value.is_integer() and abs(value) < 1e6
    ):
        return f"{int(value):,}"
    return f"{value:.3g}"


def _title(spec: Mapping) -> str:
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title).strip() if title else ""


def _field(encoding: Mapping) -> str:
    field = encoding.get("field", "")
    return field if isinstance(field, str) else ""


def _axis_title(encoding: Mapping) -> str:
    if encoding.get("title"):
        return str(encoding["title"])
    if encoding.get("aggregate") == "count":
        return "count of records"
    field = _field(encoding)
    return f"{encoding['aggregate']} of {field}" if encoding.get("aggregate") else field


def _rows(spec: Mapping, datasets: Mapping, inherited: list | None) -> list | None:
    data = spec.get("data")
    if isinstance(data, Mapping) and "name" in data:
        return datasets.get(data["name"], inherited)
    if isinstance(data, Mapping) and "values" in data:
        return data["values"]
    return inherited


def _views(
    spec: Mapping, datasets: Mapping, rows: list | None = None
) -> Iterator[tuple[Mapping, list | None]]:
    """Each panel (a single or layered view) with the rows it draws."""
    rows = _rows(spec, datasets, rows)
    for key in COMPOSITIONS:
        if key in spec:
            for child in spec[key]:
                yield from _views(child, datasets, rows)
            return
    yield spec, rows


def _layers(view: Mapping) -> list[Mapping]:
    return list(view["layer"]) if "layer" in view else [view]


def _mark(layer: Mapping) -> str:
    mark = layer.get("mark", "")
    return mark.get("type", "") if isinstance(mark, Mapping) else str(mark)


def _channel(view: Mapping, channel: str) -> Mapping | None:
    for layer in _layers(view):
        encoding = layer.get("encoding", {}).get(channel)
        if isinstance(encoding, Mapping) and (encoding.get("field") or encoding.get("aggregate")):
            return encoding
    return None


def _axis(name: str, encoding: Mapping | None, frame: pd.DataFrame | None, hidden: frozenset) -> str:
    if encoding is None:
        return f"no {name}"
    title = _axis_title(encoding)
    field = _field(encoding)
    words = [f"{name}: {title}"]
    scale = encoding.get("scale") or {}
    if encoding.get("axis", {}) is None:
        words.append("(not drawn: only distances between points mean something)")
        return " ".join(words)
    if isinstance(scale, Mapping) and scale.get("type") == "log":
        words.append("on a log scale")
    if isinstance(scale, Mapping) and scale.get("reverse"):
        words.append("reversed (largest first)")
    if encoding.get("bin"):
        words.append("in bins")
    if frame is None or field not in frame or encoding.get("aggregate") or field in hidden:
        if field in hidden:
            words.append("(its values depend on the machine and are not quoted)")
        return " ".join(words)
    column = frame[field].dropna()
    if encoding.get("type") == "quantitative" and len(column) and pd.api.types.is_numeric_dtype(column):
        words.append(f"from {_number(column.min())} to {_number(column.max())}")
    elif len(column):
        values = list(dict.fromkeys(column.astype(str)))
        shown = ", ".join(values[:6]) + (f" and {len(values) - 6} more" if len(values) > 6 else "")
        words.append(f"({len(values)} values: {shown})")
    return " ".join(words)


def _colour(view: Mapping, frame: pd.DataFrame | None) -> str:
    encoding = _channel(view, "color")
    if encoding is None:
        for layer in _layers(view):  # a selection's colour: chosen marks coloured, the rest grey
            colour = layer.get("encoding", {}).get("color", {})
            if isinstance(colour, Mapping) and "condition" in colour:
                return "Selected marks are coloured, the others light grey."
        return ""
    field, title = _field(encoding), _axis_title(encoding)
    channels = "Colour and shape show" if _channel(view, "shape") else "Colour shows"
    if frame is not None and field in frame:
        values = list(dict.fromkeys(frame[field].dropna().astype(str)))
        shown = ", ".join(values[:8]) + (f" and {len(values) - 8} more" if len(values) > 8 else "")
        return f"{channels} {title} ({len(values)} groups: {shown})."
    return f"{channels} {title}."


def _series_ends(view: Mapping, frame: pd.DataFrame | None, hidden: frozenset) -> str:
    """For a line chart: each series' first and last value (what a reader looks for)."""
    x, y = _channel(view, "x"), _channel(view, "y")
    if frame is None or x is None or y is None or "line" not in {_mark(layer) for layer in _layers(view)}:
        return ""
    xf, yf = _field(x), _field(y)
    if xf not in frame or yf not in frame or yf in hidden or xf in hidden:
        return ""
    colour = _channel(view, "color")
    groups = (
        frame.groupby(_field(colour), sort=False) if colour and _field(colour) in frame else [("", frame)]
    )
    ends = []
    for name, rows in list(groups)[:6]:
        rows = rows.dropna(subset=[yf])
        if len(rows) < 2:
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        label = f"{name}: " if str(name) else ""
        ends.append(
            f"{label}{_number(first[yf])} at {_number(first[xf])}, {_number(last[yf])} at {_number(last[xf])}"
        )
    return f"{_axis_title(y)} goes {'; '.join(ends)}." if ends else ""


def _describe_view(view: Mapping, rows: list | None, hidden: frozenset) -> str:
    frame = pd.DataFrame(rows) if rows else None
    marks = [MARKS.get(_mark(layer), _mark(layer)) for layer in _layers(view) if _mark(layer) != "text"]
    kind = " over ".join(dict.fromkeys(m for m in marks if m)) or "chart"
    if len(_layers(view)) > 1 and kind == "bar chart":
        kind = "bar chart (the selection's bars drawn over all the data in grey)"
    title = _title(view)
    head = f"{kind} '{title}'" if title else kind
    count = f" of {len(frame):,} rows" if frame is not None else ""
    x = _axis("x axis", _channel(view, "x"), frame, hidden)
    y = _axis("y axis", _channel(view, "y"), frame, hidden)
    sentences = [f"A {head}{count}; {x}; {y}.", _colour(view, frame), _series_ends(view, frame, hidden)]
    return " ".join(s for s in sentences if s)


def _hidden_fields(spec: Mapping) -> frozenset:
    meta = spec.get("usermeta", {}).get("movierec", {}) if isinstance(spec.get("usermeta"), Mapping) else {}
    return frozenset(meta.get("layout_fields", [])) | frozenset(meta.get("timing_fields", []))


def describe_vegalite(spec: Mapping) -> str:
    """A description of a Vega-Lite chart: its kind, both axes with ranges, colours, notable values.

    Args:
        spec: the chart's specification (``chart.to_dict()``), with its data in ``datasets``.

    Returns:
        A few sentences; a chart whose author set ``description`` starts with that text.
    """
    datasets = spec.get("datasets", {})
    hidden = _hidden_fields(spec)
    views = list(_views(spec, datasets))
    parts = [str(spec["description"]).rstrip(".") + "." if spec.get("description") else ""]
    if _title(spec) and not (len(views) == 1 and views[0][0] is spec):
        parts.append(f"Chart: {_title(spec)}.")
    if len(views) == 1:
        parts.append(_describe_view(*views[0], hidden))
    else:
        parts.append(f"{len(views)} panels side by side.")
        parts += [
            f"Panel {i}: {_describe_view(view, rows, hidden)}" for i, (view, rows) in enumerate(views, 1)
        ]
    return " ".join(p for p in parts if p)


def text_fallback(spec: Mapping) -> str:
    """What a terminal or a screen reader shows for a chart: its description, and its data if small."""
    text = describe_vegalite(spec)
    datasets = spec.get("datasets", {})
    hidden = _hidden_fields(spec)
    if len(datasets) == 1:
        (rows,) = datasets.values()
        frame = pd.DataFrame(rows)
        if 0 < len(frame) <= TABLE_ROWS and not hidden & set(frame.columns):
            text += "\n\n" + frame.to_string(index=False)
    return text


def describe_figure(figure: Any) -> str:
    """A description of a Matplotlib figure: per panel its title, both axes with ranges, each line's ends.

    Args:
        figure: a ``matplotlib.figure.Figure``.

    Returns:
        A few sentences.
    """
    panels = [ax for ax in figure.get_axes() if ax.get_visible()]
    parts = [f"A figure of {len(panels)} panel{'s' if len(panels) != 1 else ''}."]
    for i, ax in enumerate(panels, 1):
        parts.append(f"Panel {i}: {_describe_axes(ax)}")
    return " ".join(parts)


def _describe_axes(ax: Any) -> str:
    kind = (
        "3-D scatter plot" if getattr(ax, "name", "") == "3d" else "line chart" if ax.get_lines() else "chart"
    )
    title = f" '{ax.get_title()}'" if ax.get_title() else ""
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]
    xs = [float(v) for line in lines for v in line.get_xdata()] or list(ax.get_xlim())
    ys = [float(v) for line in lines for v in line.get_ydata()] or list(ax.get_ylim())
    x_range = f"from {_number(min(xs))} to {_number(max(xs))}"
    y_range = f"from {_number(min(ys))} to {_number(max(ys))}"
    if kind == "3-D scatter plot":
        return (
            f"a {kind}{title}; x axis: {ax.get_xlabel()}; y axis: {ax.get_ylabel()}; "
            f"z axis: {ax.get_zlabel()}; one colour per set: {_legend(ax)}."
        )
    sentence = f"a {kind}{title}; x axis: {ax.get_xlabel() or 'unlabelled'} {x_range}; "
    sentence += f"y axis: {ax.get_ylabel() or 'unlabelled'} {y_range}."
    ends = [_line_ends(line) for line in ax.get_lines() if not line.get_label().startswith("_")]
    return sentence + (" " + "; ".join(e for e in ends if e) + "." if ends else "")


def _legend(ax: Any) -> str:
    handles, labels = ax.get_legend_handles_labels()
    return ", ".join(labels) or "unlabelled"


def _line_ends(line: Any) -> str:
    xs: Sequence = list(line.get_xdata())
    ys: Sequence = list(line.get_ydata())
    if len(xs) < 2:
        return ""
    return (
        f"{line.get_label()} goes from {_number(float(ys[0]))} at {_number(float(xs[0]))} "
        f"to {_number(float(ys[-1]))} at {_number(float(xs[-1]))} (lowest {_number(float(min(ys)))})"
    )
