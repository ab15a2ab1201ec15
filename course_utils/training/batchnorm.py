"""BatchNormalization's momentum: how fast its inference statistics follow the training batches."""

from __future__ import annotations

import keras


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
