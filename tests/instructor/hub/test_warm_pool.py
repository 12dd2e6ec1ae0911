"""The grading service's warm kernels (issue #37)."""

import pytest

from movierec_instructor.hub.warm_pool import WarmPool

pytestmark = pytest.mark.sandbox


def test_a_warm_kernel_starts_under_a_deep_course_folder(tmp_path):
    # A Unix socket's path holds at most 107 bytes: the kernels' IPC sockets must not live
    # under the course folder, however deep it is (pytest-xdist's folders made them die).
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "hub-state" / "pool"
    pool = WarmPool(deep, 1, ["json"], sandbox=True)
    try:
        pool._start()
        assert pool.ready() == 1
        assert pool.claim() is not None
    finally:
        pool.close()
    assert not pool.sockets.exists()
