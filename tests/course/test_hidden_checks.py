"""Every hidden check tests a requirement the exercise's text states (issue #21).

``solutions/hidden_checks.toml`` maps each hidden check (by its label) to the sentences of
the text that state it; here the list must match the hidden checks in ``solutions/``
exactly, and each sentence must be in the released notebook, which is what students read.
"""

import re
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = re.compile(r'checks\.check\([\d.]+,\s*"(?P<label>[^"]+)",\s*hidden=True\)')


def _words(text: str) -> str:
    return " ".join(text.split())


def test_every_hidden_check_is_mapped_to_a_sentence_students_read():
    listed = tomllib.loads((ROOT / "solutions" / "hidden_checks.toml").read_text())["check"]
    found = set()
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            found |= {(path.parent.name, m["label"]) for m in HIDDEN.finditer(cell.source)}
    assert {(c["notebook"], c["label"]) for c in listed} == found, (
        "list every hidden check in hidden_checks.toml"
    )
    for check in listed:
        released = nbformat.read(
            ROOT / "notebooks" / check["notebook"] / f"{check['notebook']}.ipynb", as_version=4
        )
        text = _words(" ".join(c.source for c in released.cells if c.cell_type == "markdown"))
        for sentence in check["states"]:
            assert _words(sentence) in text, (
                f"{check['notebook']}: {check['label']!r} is not stated: {sentence!r}"
            )
