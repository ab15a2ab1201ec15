"""Shared test settings: quiet TensorFlow, and a garbage collector that skips what importing
TensorFlow created.

The test command shares the tests between two processes with pytest-xdist's ``--dist loadscope``:
each notebook (its cells run in order in one kernel), each test module and each test class goes
whole to one process, in the order collected (``--no-loadscope-reorder``; the chapters first).
Tests that share an expensive fixture therefore sit in one module or one class.
"""

import gc
import os

import pytest
from data_helpers import read_arrays, session_build, session_source_copy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The SIGNS data built once per test process from a copy of the source images."""
    return session_build(tmp_path_factory)


@pytest.fixture(scope="session")
def built_arrays(built):
    return read_arrays(built)


@pytest.fixture(scope="session")
def source_copy(tmp_path_factory):
    return session_source_copy(tmp_path_factory)


def pytest_collection_finish(session):
    """Exempt everything created so far (TensorFlow's and Keras's modules) from garbage
    collection: every `keras.backend.clear_session()` runs a full collection, which would
    otherwise walk them all each time."""
    gc.freeze()
