import os

import pytest

os.environ.setdefault("MOVIEREC_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: executes notebooks or runs nbgrader")


@pytest.fixture(scope="session")
def ml100k():
    from movierec_helpers.data import load_movielens

    return load_movielens()
