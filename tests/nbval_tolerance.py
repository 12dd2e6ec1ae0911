"""nbval with stated tolerances for numbers that come out of training.

The stored solution notebooks were executed on one CPU. Another CPU (AVX-512 or not,
Intel, AMD or ARM, oneDNN on or off) computes the same seeded training with other SIMD
kernels and summation orders, so floats differ in their last bits and amplify through
training. nbval compares outputs for equality; this plugin (loaded with
``-p tests.nbval_tolerance``) first lets through the differences that are only float
noise, and leaves everything else to nbval's exact comparison.

What is compared how, and why:

* **Vega-Lite charts** (``application/vnd.vegalite.*+json``):
  - the specification without its data (marks, encodings, fields, titles, selections,
    sizes) must be equal: it is code, exact by nature. Altair names each dataset after a
    hash of its content, so dataset names are matched by position, not by name;
  - the data: the same datasets, the same number of rows in the same order (row order is
    set by the code, never by a float), the same columns; strings, booleans and integers
    exact (ids, counts, titles, categories);
  - floats: within ``FLOAT_REL`` relative or ``FLOAT_ABS`` absolute difference. Chart data
    are rounded to what a reader can see (3-4 significant digits); the tolerance covers a
    last-digit flip and training drift between CPUs, and is far below any change a
    reader would notice;
  - *layout fields*, declared by a chart in ``usermeta["movierec"]["layout_fields"]``
    (the x/y of a t-SNE or PCA map): t-SNE amplifies a 1e-7 difference into coordinates
    several units apart, so single values mean nothing across machines. What is stable is
    compared: the rows, their titles and genres (above), that every coordinate is finite,
    and the spread of each coordinate (its standard deviation) within ``LAYOUT_SPREAD``;
  - *timing fields*, declared in ``usermeta["movierec"]["timing_fields"]`` (queries per
    second, milliseconds per query): a wall-clock measurement differs on every run and
    every machine by nature, so only that each value is a finite positive number is compared.
* **Text** (``text/plain``, ``text/html`` tables, printed ``stdout``): equal once every
  number with a decimal point is taken out; those numbers must agree within one unit of
  their last printed digit (a rounding flip) or ``TEXT_REL`` relative difference.
  Integers (counts, ids, iterations) stay exact.
* Everything else (images are skipped by nbval itself, errors, stderr) is nbval's own
  exact comparison.
"""

from __future__ import annotations

import copy
import json
import math
import re
from decimal import Decimal

FLOAT_REL = 0.02
FLOAT_ABS = 0.002
TEXT_REL = 0.0005
LAYOUT_SPREAD = 1.5  # the spread of a map coordinate may change by at most this factor
VEGALITE = re.compile(r"^application/vnd\.vegalite\.v\d+\+json$")
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?")
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
BASE64_IMAGE = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+")


class Mismatch(AssertionError):
    """Two outputs differ by more than the tolerances allow."""


# ---------------------------------------------------------------- charts


def _datasets(spec: dict) -> list[tuple[str | None, list]]:
    """The spec's datasets in order: named ones, then inline ``data.values`` anywhere."""
    found = [(name, rows) for name, rows in spec.get("datasets", {}).items()]

    def inline(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("values"), list):
                found.append((None, data["values"]))
            for value in node.values():
                inline(value)
        elif isinstance(node, list):
            for value in node:
                inline(value)

    inline({k: v for k, v in spec.items() if k != "datasets"})
    return found


def _without_data(spec: dict, names: list[str | None]) -> str:
    """The spec as text with its data removed and dataset names replaced by positions."""
    text = json.dumps({k: v for k, v in spec.items() if k not in ("datasets", "description")}, sort_keys=True)
    for i, name in enumerate(names):
        if name:
            text = text.replace(json.dumps(name), json.dumps(f"dataset-{i}"))
    stripped = json.loads(text)

    def drop_values(node):
        if isinstance(node, dict):
            if isinstance(node.get("data"), dict) and "values" in node["data"]:
                node["data"] = {**node["data"], "values": "<inline data>"}
            for value in node.values():
                drop_values(value)
        elif isinstance(node, list):
            for value in node:
                drop_values(value)

    drop_values(stripped)
    return json.dumps(stripped, sort_keys=True)


def _compare_rows(
    ref: list, test: list, layout: set[str], where: str, timing: frozenset[str] = frozenset()
) -> None:
    if len(ref) != len(test):
        raise Mismatch(f"{where}: {len(test)} rows, the stored chart has {len(ref)}")
    for i, (a, b) in enumerate(zip(ref, test)):
        if not isinstance(a, dict) or not isinstance(b, dict):
            if a != b:
                raise Mismatch(f"{where} row {i}: {b!r} != stored {a!r}")
            continue
        if set(a) != set(b):
            raise Mismatch(f"{where} row {i}: columns {sorted(b)} != stored {sorted(a)}")
        for key in a:
            x, y = a[key], b[key]
            if key in layout:
                continue
            if key in timing:
                if not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                    for v in (x, y)
                ):
                    raise Mismatch(
                        f"{where} row {i}, timing field {key!r}: {y!r} is not a finite positive number"
                    )
                continue
            if isinstance(x, float) or isinstance(y, float):
                if (
                    not (isinstance(x, (int, float)) and isinstance(y, (int, float)))
                    or isinstance(x, bool)
                    or isinstance(y, bool)
                ):
                    raise Mismatch(f"{where} row {i}, {key!r}: {y!r} != stored {x!r}")
                if not math.isclose(x, y, rel_tol=FLOAT_REL, abs_tol=FLOAT_ABS):
                    raise Mismatch(
                        f"{where} row {i}, {key!r}: {y!r} differs from stored {x!r} by more "
                        f"than rel {FLOAT_REL} / abs {FLOAT_ABS}"
                    )
            elif x != y:
                raise Mismatch(f"{where} row {i}, {key!r}: {y!r} != stored {x!r}")
    for key in layout:
        values = {}
        for label, rows in (("stored", ref), ("new", test)):
            column = [row.get(key) for row in rows if isinstance(row, dict)]
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in column):
                raise Mismatch(f"{where}: layout field {key!r} has missing or non-finite values ({label})")
            mean = sum(column) / max(len(column), 1)
            values[label] = math.sqrt(sum((v - mean) ** 2 for v in column) / max(len(column), 1))
        low, high = sorted(values.values())
        if high > 0 and (low == 0 or high / low > LAYOUT_SPREAD):
            raise Mismatch(
                f"{where}: spread of layout field {key!r} is {values['new']:.3g}, "
                f"stored {values['stored']:.3g} (more than {LAYOUT_SPREAD}x apart)"
            )


def compare_vegalite(ref: dict, test: dict) -> None:
    """Raises :class:`Mismatch` unless two Vega-Lite specs agree under the rules above."""
    ref_sets, test_sets = _datasets(ref), _datasets(test)
    if len(ref_sets) != len(test_sets):
        raise Mismatch(f"chart has {len(test_sets)} datasets, the stored chart {len(ref_sets)}")
    if _without_data(ref, [n for n, _ in ref_sets]) != _without_data(test, [n for n, _ in test_sets]):
        raise Mismatch("chart specification (marks, encodings, fields, parameters) differs")
    compare_description(ref.get("description", ""), test.get("description", ""))
    layout = set(ref.get("usermeta", {}).get("movierec", {}).get("layout_fields", []))
    timing = frozenset(ref.get("usermeta", {}).get("movierec", {}).get("timing_fields", []))
    for i, ((_, a), (_, b)) in enumerate(zip(ref_sets, test_sets)):
        _compare_rows(a, b, layout, f"dataset {i}", timing)


# ---------------------------------------------------------------- text


def _last_digit_unit(number: str) -> float:
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.split(".")[1])
    return float(Decimal(1).scaleb(-decimals + int(exponent or 0)))


def compare_text(ref: str, test: str) -> None:
    """Raises :class:`Mismatch` unless two texts agree up to rounding of their decimals."""
    if DECIMAL.sub("#", ref) != DECIMAL.sub("#", test):
        raise Mismatch("text differs beyond its decimal numbers")
    for a, b in zip(DECIMAL.findall(ref), DECIMAL.findall(test)):
        x, y = float(a), float(b)
        unit = max(_last_digit_unit(a), _last_digit_unit(b))
        if abs(x - y) > unit * 1.0001 and not math.isclose(x, y, rel_tol=TEXT_REL):
            raise Mismatch(
                f"number {b} differs from stored {a} by more than one unit in the last "
                f"digit or rel {TEXT_REL}"
            )


def compare_description(ref: str, test: str) -> None:
    """Raises :class:`Mismatch` unless two chart descriptions agree as the charts' data must.

    A description quotes the chart's data (ranges, first and last values), so its numbers get
    the chart data's tolerance (``FLOAT_REL``/``FLOAT_ABS``); the words must be equal. An
    embedded image (``data:image/png;base64,...``) is a picture of the same data: skipped.
    """
    ref, test = BASE64_IMAGE.sub("data:image", ref), BASE64_IMAGE.sub("data:image", test)
    if NUMBER.sub("#", ref) != NUMBER.sub("#", test):
        raise Mismatch("chart description differs beyond its numbers")
    for a, b in zip(NUMBER.findall(ref), NUMBER.findall(test)):
        x, y = float(a.replace(",", "")), float(b.replace(",", ""))
        unit = _last_digit_unit(a) if "." in a else 1.0
        if not math.isclose(x, y, rel_tol=FLOAT_REL, abs_tol=FLOAT_ABS) and abs(x - y) > unit:
            raise Mismatch(f"number {b} in a chart description differs from stored {a} beyond FLOAT_REL")


# ---------------------------------------------------------------- nbval hook


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def reconcile(ref_outputs: list, test_outputs: list) -> list[str]:
    """Makes each new output equal to its stored one where they agree within tolerance.

    Outputs are paired by position; a pair that agrees under the rules above gets the
    stored value, so nbval's exact comparison passes it. Returns why the other pairs of
    charts or texts did not agree (nbval then reports them as differences).
    """
    problems = []
    if len(ref_outputs) != len(test_outputs):
        return problems
    for ref, test in zip(ref_outputs, test_outputs):
        if ref.get("output_type") != test.get("output_type"):
            continue
        if ref.get("output_type") == "stream":
            if ref.get("name") == test.get("name") == "stdout":
                try:
                    compare_text(_text(ref.get("text", "")), _text(test.get("text", "")))
                    test["text"] = copy.deepcopy(ref["text"])
                except Mismatch as exc:
                    problems.append(f"stdout: {exc}")
            continue
        ref_data, test_data = ref.get("data", {}), test.get("data", {})
        chart = "image/png" in ref_data or any(VEGALITE.match(mime) for mime in ref_data)
        for mime in set(ref_data) & set(test_data):
            try:
                if VEGALITE.match(mime):
                    compare_vegalite(ref_data[mime], test_data[mime])
                elif chart and mime in ("text/plain", "text/html"):  # a chart's description in words
                    compare_description(_text(ref_data[mime]), _text(test_data[mime]))
                elif mime in ("text/plain", "text/html"):
                    compare_text(_text(ref_data[mime]), _text(test_data[mime]))
                else:
                    continue
                test_data[mime] = copy.deepcopy(ref_data[mime])
            except Mismatch as exc:
                problems.append(f"{mime}: {exc}")
    return problems


def pytest_configure(config):
    from nbval.plugin import IPyNbCell, coalesce_streams

    if getattr(IPyNbCell, "_movierec_tolerance", False):
        return
    exact = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        test = coalesce_streams(test)  # as nbval does with the stored outputs
        problems = reconcile(ref, test)
        same = exact(self, test, ref, skip_compare)
        if not same and problems:
            self.comparison_traceback.extend(f"  beyond tolerance: {p}" for p in problems)
        return same

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell._movierec_tolerance = True
