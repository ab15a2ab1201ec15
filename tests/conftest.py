"""Shared test settings: quiet TensorFlow, the TensorFlow backend for Keras, and a garbage
collector that skips what importing TensorFlow created.

The test command shares the tests between two processes with pytest-xdist's ``--dist loadscope``:
each notebook (its cells run in order in one kernel), each test module and each test class goes
whole to one process, in the order collected (``--no-loadscope-reorder``; the chapters first).
Tests that share an expensive fixture therefore sit in one module or one class.
"""

import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def pytest_collection_finish(session):
    """Exempt everything created so far (TensorFlow's and Keras's modules: some 300,000 objects)
    from garbage collection. Every `keras.backend.clear_session()` runs a full collection, which
    would otherwise walk them all each time: 0.14 s a call instead of 0.01 s, and the grader tests
    call it before every check."""
    gc.freeze()
