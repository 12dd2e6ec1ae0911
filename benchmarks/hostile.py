"""Hostile uploads (part of ``make bench``): memory when collecting a zip bomb, and the isolation's cost.

1. A Canvas zip holding one honest notebook and a 1 GiB entry of zeros (about 1 MB packed),
   collected three ways in a fresh process each, peak resident memory reported:
   with the default limits (refused from its header: it expands 1000 times), with the limits
   raised so that the whole GiB streams to disk in 1 MiB chunks, and the baseline: reading
   the entry whole into memory, as ``collect`` did before.
2. The per-student isolation of ``movierec autograde``: one start of the grading kernel
   before anyone is graded (median of 5), against the time to grade the 24-student class
   of ``benchmarks/grading.py`` measured in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_matrix_factorization"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
BOMB_BYTES = 2**30

CHILD = """
import json, resource, sys, time, zipfile
from pathlib import Path
course, archive, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
if mode == "read whole":
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            (course / "out.bin").write_bytes(data)
            del data
    outcome = "written"
else:
    from movierec_instructor.lms.collect import collect
    findings = collect(course, sys.argv[4], archive, fmt="canvas")
    outcome = "; ".join(f"{f.problem} -> {f.action}" for f in findings if f.student == "1002")
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb,
                  "outcome": outcome}))
"""


def _bomb_zip(folder: Path) -> Path:
    archive = folder / "canvas.zip"
    honest = (ROOT / "notebooks" / ASSIGNMENT / NOTEBOOK).read_bytes()
    chunk = b"\0" * 2**20
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"amy_1001_5001_{NOTEBOOK}", honest)
        with zf.open(f"bomb_1002_5002_{NOTEBOOK}", "w", force_zip64=True) as out:
            for _ in range(BOMB_BYTES // len(chunk)):
                out.write(chunk)
    return archive


def collect_bomb() -> None:
    print(f"== Collecting a zip with a {BOMB_BYTES / 2**30:.0f} GiB bomb entry ==")
    with tempfile.TemporaryDirectory() as tmp:
        archive = _bomb_zip(Path(tmp))
        print(f"archive: {archive.stat().st_size / 2**20:.1f} MiB")
        raised = {"MOVIEREC_ZIP_MAX_RATIO": "1e9", "MOVIEREC_ZIP_MAX_ENTRY_BYTES": str(2 * BOMB_BYTES)}
        runs = {}
        for label, mode, env in (
            ("default limits", "collect", {}),
            ("limits raised, streamed", "collect", raised),
            ("baseline: read whole", "read whole", {}),
        ):
            course = Path(tmp) / label.replace(" ", "_").replace(":", "").replace(",", "")
            course.mkdir()
            (course / "solutions").symlink_to(ROOT / "solutions")
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(course), str(archive), mode, ASSIGNMENT],
                capture_output=True,
                text=True,
                env={**os.environ, **env},
                check=True,
            )
            runs[label] = json.loads(done.stdout.strip().splitlines()[-1])
            r = runs[label]
            print(f"{label:26s}: peak {r['peak_mb']:7.0f} MB, {r['seconds']:5.1f} s  ({r['outcome'][:70]})")
        base = runs["baseline: read whole"]["peak_mb"]
        for label in ("default limits", "limits raised, streamed"):
            print(f"{label}: {runs[label]['peak_mb'] / base:.2f} of the baseline's peak memory")


def probe_seconds() -> float:
    from movierec_instructor.grading.autograde import kernel_probe, runtime_folder

    times = []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            assert kernel_probe(runtime_folder(Path(tmp)), sandbox=True) is None
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def isolation_cost() -> None:
    import grading  # benchmarks/grading.py: the same 24-student class

    from movierec_instructor.grading.autograde import autograde

    print("== Per-student isolation: the kernel probe before grading ==")
    probe = probe_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        grading._class(root, grading.MIX)
        start = time.perf_counter()
        autograde(root, ASSIGNMENT, jobs=2, sandbox=True)
        seconds = time.perf_counter() - start
    print(
        f"probe {probe:.2f} s once per run; the class of {grading.STUDENTS} (jobs 2, sandbox on) "
        f"{seconds:.1f} s "
        f"in all: isolation adds {100 * probe / (seconds - probe):.1f}% (goal < 5%); a student graded again "
        "alone costs one more grading, only when the shared run did not grade them"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    collect_bomb()
    isolation_cost()
