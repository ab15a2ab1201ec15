"""Shared test settings: quiet TensorFlow, the TensorFlow backend for Keras, and a garbage
collector that skips what importing TensorFlow created.

The test command shares the tests between two processes with pytest-xdist's ``--dist loadscope``:
each notebook (its cells run in order in one kernel), each test module and each test class goes
whole to one process, in the order collected (``--no-loadscope-reorder``; the chapters first).
Tests that share an expensive fixture therefore sit in one module or one class.

The notebook kernels and the other processes that tests fork with `course_utils.preloaded` come
from a fork server that is a copy of the test process, forked once the tests are collected
(TensorFlow imported, not started): no process imports TensorFlow a second time for it.
"""

import gc
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def pytest_collection_finish(session):
    """Exempt everything created so far (TensorFlow's and Keras's modules: some 300,000 objects)
    from garbage collection. Every `keras.backend.clear_session()` runs a full collection, which
    would otherwise walk them all each time: 0.14 s a call instead of 0.01 s, and the grader tests
    call it before every check."""
    gc.freeze()
    if "tensorflow" in sys.modules:
        from course_utils import preloaded

        # The server's output, and that of the kernels it forks, goes into pytest's capture of
        # this process's output, as an ordinary kernel's would: not to the terminal.
        capture = session.config.pluginmanager.getplugin("capturemanager")
        if capture is None:  # pytest -p no:capture
            preloaded.fork_server_here()
            return
        capture.resume_global_capture()
        try:
            preloaded.fork_server_here()
        finally:
            capture.suspend_global_capture()
