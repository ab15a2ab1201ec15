"""BatchNormalization's momentum: how fast its inference statistics follow the training batches."""

from __future__ import annotations

import keras
import numpy as np


def set_batchnorm_momentum(model: keras.Model, momentum: float) -> int:
    """Give every BatchNormalization layer of `model` (nested models included) this momentum.

    The moving mean and variance that a layer uses at inference are updated after each training
    step as `momentum * moving + (1 - momentum) * batch`. Set it before training.

    Returns:
        The number of layers changed (53 for ResNet-50).

    Raises:
        ValueError: momentum is not in [0, 1).
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    changed = 0
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
            changed += 1
    return changed


def _all_layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def fix_and_train(model, X_train, Y_train, X_val, Y_val, epochs):
    """Train `model` with momentum 0.9 in every BatchNormalization layer, so that its inference
    statistics follow the weights, and a learning rate that decays to 0 over the run.

    Args:
        model: an uncompiled Keras model, e.g. `ResNet50(input_shape=(64, 64, 3), classes=6)`.
        X_train: training images, shape (m, 64, 64, 3), values in [0, 1].
        Y_train: their one-hot labels, shape (m, 6).
        X_val: validation images of other signers, shape (m_val, 64, 64, 3).
        Y_val: their one-hot labels, shape (m_val, 6).
        epochs: the number of passes over the training images.

    Returns:
        The History that `model.fit` returns.
    """
    ### START CODE HERE ###
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    steps = epochs * int(np.ceil(len(X_train) / 32))
    learning_rate = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        X_train, Y_train, epochs=epochs, batch_size=32, validation_data=(X_val, Y_val)
    )
    ### END CODE HERE ###
    return history
