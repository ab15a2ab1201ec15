"""The one place where the course reaches into Keras beyond its public API.

Keras 3 offers no public hook for how a model builds itself from its first batch of data before
the first training step; multi-worker training needs to change that step (see
`course_utils.training.distributed.apply_multi_worker_fixes`): the model's build method, and the
form of the epoch iterator that `fit` and `evaluate` hand it. tests/unit/test_keras_compat.py fails
with a clear message when a Keras release renames or changes what is used here.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

SYMBOLIC_BUILD = "_maybe_symbolic_build"  # keras/src/backend/tensorflow/trainer.py (Keras 3.15)


def symbolic_build(model: keras.Model) -> Callable:
    """The model's own build-from-first-batch method, ``f(iterator=None, data_batch=None)``."""
    return getattr(model, SYMBOLIC_BUILD)


def replace_symbolic_build(model: keras.Model, build: Callable) -> None:
    """Make ``model`` (this one model, nothing global) build itself with ``build``, which takes
    the same arguments as `symbolic_build`'s result."""
    setattr(model, SYMBOLIC_BUILD, build)


def first_batch(iterator):
    """The first batch of ``iterator``, the epoch iterator that `fit` and `evaluate` hand the
    build method (`symbolic_build`'s ``iterator`` argument); None if it has no step.

    With the TensorFlow backend (Keras 3.15, ``TFEpochIterator``) each step of it is
    ``(first step, last step, iterator of the batches)``: the batch is that iterator's next one,
    as the strategy distributes it (one value per replica under a strategy of several).
    """
    for _, _, batches in iterator:
        return next(batches)
    return None
