"""What the fork server of `course_utils.preloaded` imports, once, before it forks processes.

Each process forked from it (a notebook kernel, a training run) then starts without importing
TensorFlow (about 3 CPU-seconds, and eight times that on a slow machine). Importing runs no
TensorFlow operation and starts no thread of TensorFlow's: a forked process can still split the
CPU into logical devices or create a multi-worker strategy, which must happen before TensorFlow
starts.
"""

import gc
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# What ipykernel sets before the learner's code runs; matplotlib reads it when it is imported.
os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
# A fork server that is a copy of another process (`preloaded.fork_server_here`) may find
# matplotlib imported before MPLBACKEND was set.
_matplotlib_was_loaded = "matplotlib" in sys.modules

import ipykernel.kernelapp  # noqa: E402, F401
import keras  # noqa: E402, F401
import matplotlib.pyplot  # noqa: E402, F401
import matplotlib_inline.backend_inline  # noqa: E402, F401
import tensorflow  # noqa: E402, F401

import course_utils.distributed  # noqa: E402, F401
import course_utils.evaluate  # noqa: E402, F401
import course_utils.grading  # noqa: E402, F401
import course_utils.resnet  # noqa: E402, F401
import course_utils.train  # noqa: E402, F401

if _matplotlib_was_loaded:
    matplotlib.pyplot.switch_backend(os.environ["MPLBACKEND"])

# What was imported lives as long as the process: the garbage collector need not walk its 300,000
# objects again in each forked process (every keras.backend.clear_session() collects, 0.14 s a
# time here), and leaving them alone keeps their memory shared with the server.
gc.freeze()
