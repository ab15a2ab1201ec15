"""Start TensorFlow without its start-up notices: import this module before Keras or TensorFlow.

TensorFlow's C++ libraries write notices (such as "Could not find cuda drivers") straight to the
process's standard error while they load, before `TF_CPP_MIN_LOG_LEVEL` can take effect, and a
Jupyter kernel shows them under the cell. Importing this module sets `TF_CPP_MIN_LOG_LEVEL=3` and
`KERAS_BACKEND=tensorflow` unless they are set, then imports TensorFlow with the standard error
file descriptor pointed at the null device, and restores it. Python errors are not affected: an
import that fails still raises.

It also sets TensorFlow's Python logger to errors only. Its warnings are about TensorFlow's own
workings, such as "triggered tf.function retracing", which a chapter that builds and trains
several models in one kernel (chapter 5's checks, then a second run) sets off on purpose.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_tensorflow_quietly() -> None:
    if os.environ["KERAS_BACKEND"] != "tensorflow" or "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
    tensorflow.get_logger().setLevel("ERROR")


_import_tensorflow_quietly()
