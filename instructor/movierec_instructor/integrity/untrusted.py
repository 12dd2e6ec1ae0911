"""Student-controlled values made safe to use: ids, paths, terminal text, CSV cells, HTML, archives.

Everything a student hands in is hostile input, not only the code the sandbox runs: the
names in an LMS zip, the ids of a mapping file, folder names, and the text that ends up in
the reports and exports an instructor opens in a terminal, a spreadsheet or a browser.

* **One id policy** (:func:`check_student_id`) for every source of a student id: it
  starts with a letter or digit, then letters, digits and ``. _ - @ +``, at most 64
  characters. That excludes ``.``/``..``, separators, control characters, commas and
  quotes, and a leading ``= + - @`` (spreadsheet formulas). A refused id is reported
  escaped and never used as a path.
* **Paths stay in their folder** (:func:`path_inside`).
* **Terminal text** is escaped (:func:`terminal_safe`): no raw ESC or BEL from a file name.
* **CSV** (:func:`write_csv`): every cell quoted, and a text cell that a spreadsheet would
  run as a formula (starting with ``= + - @``, tab or carriage return) prefixed with ``'``
  (OWASP's rule for CSV injection).
* **HTML pages** carry a Content Security Policy without scripts (:func:`add_csp`).
* **Archives** are read entry by entry in chunks with limits in bytes and entries
  (:class:`ArchiveLimits`, :func:`extract_member`): a zip bomb is refused, and nothing
  half-written is left behind.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# No script of any origin, no plugins, no forms; styles and images as the pages inline them.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline' data:; img-src data:; font-src data:; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)


class UnsafeId(ValueError):
    """A student id that the id policy refuses."""


class ArchiveTooLarge(ValueError):
    """An archive or one of its entries is past a size, count or compression-ratio limit."""


def terminal_safe(text: object) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``), safe to print to a terminal."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in str(text))


def check_student_id(raw: str, source: str = "student id") -> str:
    """Returns ``raw`` if it is a valid student id.

    Args:
        raw: the id as read (a file or folder name, a mapping-file cell).
        source: where it came from, for the message.

    Raises:
        UnsafeId: the id breaks the policy; the message shows it escaped.
    """
    if isinstance(raw, str) and STUDENT_ID.match(raw):
        return raw
    raise UnsafeId(
        f"{source} {terminal_safe(repr(raw))} is not a usable student id: ids start with a letter or "
        "digit, then letters, digits and . _ - @ +, at most 64 characters. Rename it (or map it to "
        "such an id in the mapping file)."
    )


def is_student_id(raw: str) -> bool:
    """Whether ``raw`` passes :func:`check_student_id`."""
    return isinstance(raw, str) and bool(STUDENT_ID.match(raw))


def path_inside(base: Path, *parts: str) -> Path:
    """``base / parts...``, refusing a result that would leave ``base``.

    Raises:
        UnsafeId: the joined path resolves outside ``base``.
    """
    base = Path(base).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise UnsafeId(f"{terminal_safe(os.path.join(*parts))} would leave {base}")
    return target


def spreadsheet_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Writes a CSV with every cell quoted and formula-like text cells neutralised."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow([spreadsheet_cell(h) for h in header])
        for row in rows:
            writer.writerow([spreadsheet_cell(v) for v in row])
    return Path(path)


SCRIPT = re.compile(r"<script\b.*?</script\s*>", flags=re.IGNORECASE | re.DOTALL)


def without_scripts(html: str) -> str:
    """The page without ``<script>`` elements (a page we generate needs none to be read)."""
    return SCRIPT.sub("", html)


def add_csp(html: str) -> str:
    """Puts a Content-Security-Policy (no scripts) at the top of an HTML page's ``<head>``."""
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    match = re.search(r"<head[^>]*>", html, flags=re.IGNORECASE)
    if match:
        return html[: match.end()] + meta + html[match.end() :]
    return f"<!DOCTYPE html><html><head>{meta}</head><body>{html}</body></html>"


@dataclass(frozen=True)
class ArchiveLimits:
    """What a submission archive may hold (``MOVIEREC_ZIP_*`` environment variables override).

    Attributes:
        max_entries: entries in the archive.
        max_entry_bytes: uncompressed bytes of one collected file.
        max_total_bytes: uncompressed bytes of all collected files.
        max_ratio: uncompressed / compressed size of an entry larger than 1 MiB.
    """

    max_entries: int = 20_000
    max_entry_bytes: int = 100 * 2**20
    max_total_bytes: int = 4 * 2**30
    max_ratio: float = 200.0

    @classmethod
    def from_env(cls) -> ArchiveLimits:
        env = os.environ.get
        return cls(
            max_entries=int(env("MOVIEREC_ZIP_MAX_ENTRIES", cls.max_entries)),
            max_entry_bytes=int(env("MOVIEREC_ZIP_MAX_ENTRY_BYTES", cls.max_entry_bytes)),
            max_total_bytes=int(env("MOVIEREC_ZIP_MAX_TOTAL_BYTES", cls.max_total_bytes)),
            max_ratio=float(env("MOVIEREC_ZIP_MAX_RATIO", cls.max_ratio)),
        )


def check_entry_header(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    """Refuses an entry whose declared size or ratio is already past the limits.

    Raises:
        ArchiveTooLarge: with the entry, its sizes and the limit.
    """
    if info.file_size > limits.max_entry_bytes:
        raise ArchiveTooLarge(
            f"declares {info.file_size:,} bytes, over the limit of {limits.max_entry_bytes:,}"
        )
    if info.file_size > 2**20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise ArchiveTooLarge(
            f"expands {info.file_size / max(info.compress_size, 1):,.0f} times "
            f"(limit {limits.max_ratio:g}): a zip bomb"
        )


def extract_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: ArchiveLimits, budget: int
) -> int:
    """Streams one entry to ``target`` in chunks, counting the bytes actually written.

    Sizes in the zip's headers can lie, so the limits are enforced on the bytes read. On any
    failure the partial file is removed and the previous ``target`` (if any) stays.

    Args:
        zf: the open archive.
        info: the entry.
        target: where the file goes.
        limits: the archive limits.
        budget: bytes still allowed for the whole archive.

    Returns:
        The number of bytes written.

    Raises:
        ArchiveTooLarge: the entry passes the per-entry, total or ratio limit.
    """
    check_entry_header(info, limits)
    cap = min(limits.max_entry_bytes, budget)
    ratio_cap = limits.max_ratio * max(info.compress_size, 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    written = 0
    try:
        with zf.open(info) as source, open(partial, "wb") as out:
            while chunk := source.read(1 << 20):
                written += len(chunk)
                if written > cap:
                    which = "the archive's total" if cap == budget else "one file's"
                    raise ArchiveTooLarge(f"expands past {which} limit of {cap:,} bytes")
                if written > 2**20 and written > ratio_cap:
                    raise ArchiveTooLarge(f"expands more than {limits.max_ratio:g} times: a zip bomb")
                out.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written
