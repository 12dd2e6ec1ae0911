"""Rebuild the bundled MovieLens 100K copy from the RecBole 1.2.1 wheel on PyPI.

RecBole ships MovieLens 100K as atomic files (``ml-100k.inter``, ``.item``,
``.user``). This script downloads that wheel with pip, checks the SHA-256 of
each file against the values recorded below, and writes deterministic gzip
copies (mtime 0) into ``movierec_helpers/datasets/ml-100k/`` together with a
``SHA256SUMS`` file that :func:`movierec_helpers.data.load_movielens` verifies.

Usage::

    python scripts/build_ml100k.py            # rebuild and verify
    python scripts/build_ml100k.py --check    # only verify the bundled copy
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "recbole==1.2.1"
MEMBER_DIR = "recbole/dataset_example/ml-100k/"
UPSTREAM_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
TARGET = Path(__file__).resolve().parents[1] / "movierec_helpers" / "datasets" / "ml-100k"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_raw_files(workdir: Path) -> dict[str, bytes]:
    """Download the wheel and return the verified raw file contents."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(workdir)],
        check=True,
    )
    (wheel,) = workdir.glob("recbole-*.whl")
    out = {}
    with zipfile.ZipFile(wheel) as zf:
        for name, expected in UPSTREAM_SHA256.items():
            data = zf.read(MEMBER_DIR + name)
            if sha256(data) != expected:
                raise SystemExit(f"{name}: SHA-256 {sha256(data)} != expected {expected}")
            out[name] = data
    return out


def write_bundle(raw: dict[str, bytes]) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, data in sorted(raw.items()):
        gz_path = TARGET / f"{name}.gz"
        with open(gz_path, "wb") as fh:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
                gz.write(data)
        lines.append(f"{sha256(data)}  {name}")
    (TARGET / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def check_bundle() -> None:
    for name, expected in UPSTREAM_SHA256.items():
        data = gzip.decompress((TARGET / f"{name}.gz").read_bytes())
        if sha256(data) != expected:
            raise SystemExit(f"bundled {name} does not match upstream SHA-256")
    print("bundled MovieLens 100K matches the RecBole 1.2.1 wheel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the bundled copy")
    args = parser.parse_args()
    if not args.check:
        with tempfile.TemporaryDirectory() as tmp:
            write_bundle(fetch_raw_files(Path(tmp)))
    check_bundle()


if __name__ == "__main__":
    main()
