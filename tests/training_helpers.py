"""Small data and a small network for the tests of the training loop, shared by several test
modules; ``python tests/training_helpers.py OUT DATA`` runs `train_tiny` in a process of its own
(the kill test kills it)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import h5py
import keras
import numpy as np

from course_utils.training.recipes import SHORT
from course_utils.training.train import TrainOptions, train

TINY = dataclasses.replace(SHORT, name="tiny", epochs=3, batch_size=12)
TINY_EPOCHS = 12  # the kill test's run: long enough to be killed three times


VALIDATION_SIGNERS = 1  # of write_signs's training set: 6 images


def write_signs(folder: Path, n_train: int = 24, n_test: int = 12, seed: int = 0) -> Path:
    """A tiny data folder in the SIGNS format the course builds: random (m, 64, 64, 3) uint8
    images, labels 0..5 in turn, each six images one signer (file numbers key + digit, keys 20
    apart), so that `load_validation_split`'s rule can hold signers out."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, m in (("train", n_train), ("test", n_test)):
        labels = np.arange(m) % 6
        with h5py.File(folder / f"{split}_signs.h5", "w") as f:
            f[f"{split}_set_x"] = rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8)
            f[f"{split}_set_y"] = labels
            f["list_classes"] = np.arange(6)
            if split == "train":
                f["file_numbers"] = 1000 + 20 * (np.arange(m) // 6) + labels
    return folder


def small_network(input_shape, classes):
    """A few-layer CNN with BatchNormalization: the training loop's logic, without ResNet-50's
    build and trace time."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, strides=4)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Activation("relu")(x))
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


def train_eagerly(recipe, out, signs, **options):
    """Train ``recipe`` on the small network with eager steps: these runs are two steps an epoch,
    fewer than it takes to pay for tracing the step. ``options``: more `TrainOptions` fields."""
    options = TrainOptions(
        data_dir=signs,
        verbose=0,
        network=small_network,
        run_eagerly=True,
        validation_signers=VALIDATION_SIGNERS,
        **options,
    )
    return train(recipe, out, options)


def train_tiny(out: Path | str, data: Path | str) -> None:
    """Train (or resume) the small network for TINY_EPOCHS epochs, checkpointing into ``out``."""
    recipe = dataclasses.replace(SHORT, name="tiny", epochs=TINY_EPOCHS, batch_size=6)
    options = TrainOptions(
        data_dir=data, verbose=0, network=small_network, validation_signers=VALIDATION_SIGNERS
    )
    train(recipe, out, options)


if __name__ == "__main__":
    train_tiny(*sys.argv[1:3])
