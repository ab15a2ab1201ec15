"""Shared test settings: quiet TensorFlow, the TensorFlow backend for Keras."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
