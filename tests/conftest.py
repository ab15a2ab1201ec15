"""Shared test settings: quiet TensorFlow, quick training in the notebooks' kernels, and a garbage
collector that skips what importing TensorFlow created.

The test command shares the tests between two processes with pytest-xdist's ``--dist loadscope``:
each notebook (its cells run in order in one kernel), each test module and each test class goes
whole to one process, in the order collected (``--no-loadscope-reorder``; the chapters first).
Tests that share an expensive fixture therefore sit in one module or one class.
"""

import gc
import os
import shutil
import tempfile

import pytest
from data_helpers import read_arrays, session_build, session_source_copy

from course_tools import quick_training

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
QUICK_ENV = "COURSE_QUICK"
_quick_ipython_dir = pytest.StashKey[str]()


def pytest_configure(config):
    """With COURSE_QUICK=1 (the test command sets it), every IPython kernel this run starts
    (nbval's, with --nbval-current-env, and those of the tests) trains quickly: its IPYTHONDIR is a
    folder of this run whose start-up file installs `course_tools.quick_training`."""
    if os.environ.get(QUICK_ENV) != "1":
        return
    folder = tempfile.mkdtemp(prefix="course-quick-ipython-")
    quick_training.write_startup_file(folder)
    os.environ["IPYTHONDIR"] = folder
    config.stash[_quick_ipython_dir] = folder


def pytest_unconfigure(config):
    folder = config.stash.get(_quick_ipython_dir, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


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
