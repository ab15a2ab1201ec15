"""Brief runs of the original recipe, in memory: the protocol under which chapter 9 trains the
variants side by side (`train_briefly`) and the momentum ablation compares two BatchNormalization
momenta (`course_tools.momentum_ablation`).

A run takes the signer-disjoint split of the SIGNS training set as arrays (`load_split_arrays`),
builds its model in a fresh, seeded Keras session with the momentum it asks for, compiled with the
original recipe (`fresh_compiled_model`: Adam with LEARNING_RATE, categorical cross-entropy), and
trains it with plain `model.fit` on mini-batches of BATCH_SIZE, the validation images evaluated
after each epoch (`fit_original_recipe`). The test set is never read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np

from course_utils.data.pipeline import preprocess
from course_utils.data.split import N_CLASSES
from course_utils.resnets_utils import load_validation_split
from course_utils.training.batchnorm import set_batchnorm_momentum
from course_utils.training.recipes import ORIGINAL

# The original recipe's mini-batch and learning rate (32 and 1e-3), which every brief run uses.
BATCH_SIZE = ORIGINAL.batch_size
LEARNING_RATE = ORIGINAL.learning_rate

# The protocol of `train_briefly`, the same for every variant.
BRIEF_EPOCHS = 3
BATCHNORM_MOMENTUM = 0.9


class SplitArrays(NamedTuple):
    """The signer-disjoint split of the SIGNS training set, ready for `model.fit`."""

    x_train: np.ndarray  # (900, 64, 64, 3) float32 in [0, 1]
    y_train: np.ndarray  # (900, 6) float32 one-hot
    x_val: np.ndarray  # (180, 64, 64, 3) float32 in [0, 1]
    y_val: np.ndarray  # (180, 6) float32 one-hot


def load_split_arrays(data_dir=None) -> SplitArrays:
    """`course_utils.resnets_utils.load_validation_split`, scaled to [0, 1] and one-hot encoded
    by the course's `preprocess`."""
    X_train_orig, Y_train_orig, X_val_orig, Y_val_orig = load_validation_split(data_dir)
    return SplitArrays(
        *preprocess(X_train_orig, Y_train_orig, N_CLASSES),
        *preprocess(X_val_orig, Y_val_orig, N_CLASSES),
    )


def fresh_compiled_model(
    build: Callable[[], keras.Model], seed: int, batchnorm_momentum: float
) -> keras.Model:
    """`build()` in a fresh Keras session after `keras.utils.set_random_seed(seed)`, with this
    momentum in every BatchNormalization, compiled with the original recipe: Adam with
    LEARNING_RATE, categorical cross-entropy, and accuracy as the metric."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build()
    set_batchnorm_momentum(model, batchnorm_momentum)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit_original_recipe(
    model: keras.Model,
    data,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    verbose: int | str,
) -> keras.callbacks.History:
    """`model.fit` on the training arrays of `data` (x_train, y_train, x_val, y_val) for `epochs`
    epochs of mini-batches of BATCH_SIZE, the validation arrays evaluated after each epoch.

    Returns:
        The History of `model.fit`.
    """
    x_train, y_train, x_val, y_val = data
    return model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        validation_data=(x_val, y_val),
        callbacks=callbacks,
        verbose=verbose,
    )


def reseed_kernels(model: keras.Model, seed: int) -> None:
    """Draw every kernel of `model` again from its own initializer, reseeded.

    The course's blocks give every convolution `glorot_uniform(seed=0)`, so two builds start from
    the same weights whatever `keras.utils.set_random_seed` says. This gives layer k of the model
    the seed `seed * 10_000 + k` (same distribution, other draws); biases and BatchNormalization
    parameters keep their constant starting values.
    """
    for position, layer in enumerate(model.layers):
        initializer = getattr(layer, "kernel_initializer", None)
        if initializer is None:
            continue
        config = keras.initializers.serialize(initializer)
        config["config"]["seed"] = seed * 10_000 + position
        layer.kernel.assign(keras.initializers.get(config)(layer.kernel.shape))


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time, in seconds, of every epoch (training and validation)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def train_briefly(
    build: Callable[[], keras.Model],
    data,
    epochs: int | None = None,
    seed: int = 0,
    verbose: int | str = 0,
    reseed: bool = False,
) -> dict:
    """Train one network under the protocol every variant shares.

    A fresh Keras session and `keras.utils.set_random_seed(seed)`; `build()`; momentum
    BATCHNORM_MOMENTUM in every BatchNormalization (their inference statistics must follow the
    weights within a few epochs); Adam with LEARNING_RATE and categorical cross-entropy;
    `model.fit` for `epochs` epochs of mini-batches of BATCH_SIZE, with the validation images
    evaluated after each epoch. The convolutions' initial weights come from their seeded
    initialisers, so `seed` changes the order of the mini-batches; with `reseed`, the kernels are
    drawn again with `seed` too (`reseed_kernels`).

    Args:
        build: returns the uncompiled model, mapping (m, 64, 64, 3) to (m, 6) probabilities.
        data: (x_train, y_train, x_val, y_val), e.g. `load_split_arrays()`: images (m, n_H, n_W,
            3) in [0, 1] and one-hot labels (m, classes).
        epochs: number of epochs (default BRIEF_EPOCHS).
        seed: the random seed.
        verbose: passed to `model.fit` (0 silent, 2 one line per epoch).
        reseed: draw the initial kernels with `seed` as well.

    Returns:
        {"name", "parameters": int, "epoch_seconds": [float] (one per epoch, the first one
         includes building the training graph), "seconds_per_epoch": float (their median),
         "final_val_accuracy": float, "best_val_accuracy": float, "val_correct": int (images of
         the validation set right after the last epoch), "n_val": int, "val_predicted": [int]
         (the class predicted for each validation image after the last epoch), "history":
         {metric: [one value per epoch]}}.
    """
    epochs = BRIEF_EPOCHS if epochs is None else epochs
    _, _, x_val, _ = data
    model = fresh_compiled_model(build, seed, BATCHNORM_MOMENTUM)
    if reseed:
        reseed_kernels(model, seed)
    timer = EpochTimer()
    history = fit_original_recipe(model, data, epochs, [timer], verbose)
    val_accuracy = [float(v) for v in history.history["val_accuracy"]]
    predicted = model.predict(x_val, batch_size=BATCH_SIZE, verbose=0).argmax(axis=1)
    return {
        "name": model.name,
        "parameters": int(model.count_params()),
        "epoch_seconds": timer.seconds,
        "seconds_per_epoch": float(np.median(timer.seconds)),
        "final_val_accuracy": val_accuracy[-1],
        "best_val_accuracy": max(val_accuracy),
        "val_correct": int(round(val_accuracy[-1] * len(x_val))),
        "n_val": len(x_val),
        "val_predicted": [int(c) for c in predicted],
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    }
