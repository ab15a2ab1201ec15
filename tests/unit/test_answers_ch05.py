"""Chapter 5's answer keys agree with Keras and with the data they are about."""

from __future__ import annotations

import keras
import numpy as np

from course_utils.answers.ch05 import (
    cosine_rate_after,
    initial_weight_left,
    smallest_smoothed_loss,
    smoothed_target,
    steps_per_epoch,
)
from course_utils.questions import answer_is_right, check_answer


def test_steps_per_epoch_is_the_number_of_batches_keras_takes():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    counter = keras.callbacks.LambdaCallback()
    steps = []
    counter.on_train_batch_end = lambda batch, logs=None: steps.append(batch)
    x = np.zeros((900, 1), "float32")
    model.fit(x, x, epochs=1, batch_size=32, verbose=0, callbacks=[counter])
    assert steps_per_epoch() == len(steps) == 29
    assert steps_per_epoch(900, 64) == 15


def test_initial_weight_is_what_a_batchnorm_layer_keeps():
    layer = keras.layers.BatchNormalization(momentum=0.95)
    layer.build((None, 1))
    batch = np.ones((4, 1), "float32")
    for _ in range(29 * 2):
        layer(batch, training=True)
    moving_mean = float(keras.ops.convert_to_numpy(layer.moving_mean)[0])
    # The mean moves from 0 towards 1; what is left of 0's weight is 1 - moving_mean.
    assert np.isclose(1 - moving_mean, initial_weight_left(), rtol=1e-3)


def test_smoothed_target_is_keras_label_smoothing():
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
    y_true = np.eye(6, dtype="float32")[[0]]
    # With the smoothed target as prediction the cross-entropy is the target's entropy, minimal.
    best = np.full((1, 6), (1 - smoothed_target()) / 5, "float32")
    best[0, 0] = smoothed_target()
    worse = np.full((1, 6), 0.02, "float32")
    worse[0, 0] = 0.9
    assert float(loss(y_true, best)) < float(loss(y_true, worse))
    assert np.isclose(smoothed_target(), 0.9 + 0.1 / 6)


def test_the_smallest_smoothed_loss_is_keras_loss_at_the_smoothed_targets():
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
    y_true = np.eye(6, dtype="float32")[[0]]
    targets = np.full((1, 6), 0.1 / 6, "float32")
    targets[0, 0] = smoothed_target()
    assert np.isclose(float(loss(y_true, targets)), smallest_smoothed_loss(), rtol=1e-4)
    shifted = targets.copy()
    shifted[0, 0], shifted[0, 1] = targets[0, 0] - 0.01, targets[0, 1] + 0.01
    assert float(loss(y_true, shifted)) > smallest_smoothed_loss()


def test_keys_accept_the_answers(capsys):
    assert answer_is_right("5.1", 15)
    assert not answer_is_right("5.1", 29)
    assert answer_is_right("5.2", 0.051)
    assert not answer_is_right("5.2", 0.233)
    assert answer_is_right("5.3", 0.421)
    assert not answer_is_right("5.3", 0.0)
    check_answer("5.2", 0.233)
    assert "0.051" not in capsys.readouterr().out


def test_the_cosine_rate_is_what_keras_schedule_gives():
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps_per_epoch() * 5)
    rate = float(schedule(steps_per_epoch() * 4))
    assert np.isclose(cosine_rate_after(), rate, rtol=1e-5)
    assert answer_is_right("5.4", rate)
    assert not answer_is_right("5.4", 1e-3 * 0.2)  # the fraction of the run left, not the cosine
