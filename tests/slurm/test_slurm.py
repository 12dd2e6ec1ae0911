"""Grading through dask-jobqueue on a real Slurm cluster (issue #25): `make test-slurm`.

tests/slurm/start_slurm.sh starts a one-node Slurm (Debian's slurm-wlm) on this machine; this
test asks Slurm for two worker jobs with dask-jobqueue's SLURMCluster and grades the planted
class of tests/instructor/grading/test_cluster.py through them. Not part of `make test` (it needs
root to start the daemons); skipped where no Slurm answers.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "instructor" / "grading"))
from test_cluster import ASSIGNMENT, EXPECTED, _course, _scores  # noqa: E402

from movierec_instructor.grading.cluster import autograde_on_cluster  # noqa: E402


def _slurm_up() -> bool:
    if not shutil.which("sinfo"):
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return done.returncode == 0 and ("idle" in done.stdout or "mix" in done.stdout)


@pytest.mark.skipif(
    not _slurm_up(), reason="no Slurm answers here: run tests/slurm/start_slurm.sh (make test-slurm)"
)
def test_two_slurm_jobs_grade_the_class_exactly(tmp_path):
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    course = _course(tmp_path / "course")
    jobs_dir = tmp_path / "jobs"
    jobs_dir.mkdir()
    cluster = SLURMCluster(
        cores=1,
        processes=1,
        memory="3GB",
        walltime="00:20:00",
        queue="debug",
        python=sys.executable,
        log_directory=str(jobs_dir),
        local_directory=str(jobs_dir),
        job_script_prologue=[f"cd {jobs_dir}"],
    )
    try:
        cluster.scale(jobs=2)
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=300)
            queued = subprocess.run(["squeue", "-h", "-o", "%j %T"], capture_output=True, text=True).stdout
            assert queued.count("RUNNING") >= 2, f"two Slurm jobs run the workers: {queued}"
        findings = autograde_on_cluster(course, ASSIGNMENT, cluster.scheduler_address)
    finally:
        cluster.close()
    assert not [f for f in findings if f.action.startswith("NOT GRADED")], findings
    assert _scores(course) == EXPECTED
