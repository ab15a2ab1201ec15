"""Grader of chapter 5's `fix_and_train`: momentum 0.9 in every BatchNormalization layer, Adam
with a learning rate that decays from 1e-3 to 0 over the run, categorical cross-entropy and
accuracy, trained with validation data.

The check calls the learner's function on a small model of its own: a BatchNormalization layer
right after the input, a convolution and a second BatchNormalization, on IMAGES identical images
for EPOCHS epochs. Then it reads what training left behind: the compile configuration (its
learning rate must be 1e-3 at the first step, half that halfway and 0 after the last), the
optimizer's step count (EPOCHS x ceil(IMAGES / 32) steps), the History returned, and the momentum
of each BatchNormalization layer. The first layer's moving mean also tells the momentum training
used: the batches' mean is the same at every step, so after k steps the moving mean is
(1 - momentum**k) times it. A momentum set only after `fit` shows there.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
from keras import layers

from course_utils.data.split import N_CLASSES
from course_utils.grading.compile_settings import LEARNING_RATE, check_original_recipe
from course_utils.grading.harness import GradingFailure, call_learner, report
from course_utils.grading.own_work import require_own_function

NAME = "fix_and_train"
SIGNATURE = "fix_and_train(model, X_train, Y_train, X_val, Y_val, epochs)"
MOMENTUM = 0.9
BATCH_SIZE = 32
IMAGES = 40
EPOCHS = 2
STEPS = EPOCHS * math.ceil(IMAGES / BATCH_SIZE)


def check_fix_and_train(function: Callable) -> bool:
    """Grade a learner's `fix_and_train` (chapter 5). Prints ``All tests passed.`` and returns
    True, or prints what is wrong and returns False. Never raises."""
    return report(lambda: _check(function))


def small_model() -> keras.Model:
    """(m, 8, 8, 3) images -> (m, 6) probabilities, through two BatchNormalization layers, the
    first one on the input itself."""
    inputs = keras.Input((8, 8, 3))
    x = layers.BatchNormalization(name="first_norm")(inputs)
    x = layers.Conv2D(4, 3, padding="same")(x)
    x = layers.BatchNormalization(name="second_norm")(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(N_CLASSES, activation="softmax")(x))


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """IMAGES identical training images (so every batch has the same mean) and 12 validation
    images, with one-hot labels."""
    rng = np.random.default_rng(0)
    image = rng.random((8, 8, 3), dtype=np.float32) + np.float32(1.0)
    x = np.repeat(image[None], IMAGES, axis=0)
    y = np.eye(N_CLASSES, dtype=np.float32)[np.arange(IMAGES) % N_CLASSES]
    x_val = rng.random((12, 8, 8, 3), dtype=np.float32)
    y_val = np.eye(N_CLASSES, dtype=np.float32)[np.arange(12) % N_CLASSES]
    return x, y, x_val, y_val


def _check(function: Callable) -> None:
    require_own_function(function, NAME)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = small_model()
    x, y, x_val, y_val = _data()
    history = _without_progress_bars(
        lambda: call_learner(function, model, x, y, x_val, y_val, EPOCHS, what=NAME,
                             signature=SIGNATURE)
    )  # fmt: skip
    if not isinstance(history, keras.callbacks.History):
        raise GradingFailure(
            f"{NAME} returned {type(history).__name__}; return the History that model.fit "
            "returns, so that the next cells can plot the curves."
        )
    config = model.get_compile_config()
    if not config:
        raise GradingFailure(
            f"{NAME} did not compile the model: call model.compile with the original recipe's "
            "optimizer, loss and metric before model.fit."
        )
    check_original_recipe(config)
    _check_schedule(config["optimizer"])
    steps = int(model.optimizer.iterations.numpy())
    _check_momentum(model, steps, batch_mean=x.mean(axis=(0, 1, 2)))
    _check_steps(steps, history)
    _check_validation(history)


def _without_progress_bars(call: Callable):
    """``call()`` with Keras's progress bars off, so that what the learner's function prints is
    its own prints only."""
    interactive = keras.config.is_interactive_logging_enabled()
    keras.config.disable_interactive_logging()
    try:
        return call()
    finally:
        if interactive:
            keras.config.enable_interactive_logging()


def _check_schedule(optimizer: dict) -> None:
    rate = optimizer.get("config", {}).get("learning_rate") if isinstance(optimizer, dict) else None
    if not isinstance(rate, dict):
        raise GradingFailure(
            f"Adam's learning rate is the constant {rate}; give it one that decays from "
            f"{LEARNING_RATE:g} to 0 over the whole run, such as "
            "keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=...)."
        )
    schedule = keras.optimizers.schedules.deserialize(rate)
    start, middle, end = (float(schedule(step)) for step in (0, STEPS // 2, STEPS))
    if not np.isclose(start, LEARNING_RATE, rtol=0.01):
        raise GradingFailure(
            f"the learning rate starts at {start:g}; start it at the original recipe's "
            f"{LEARNING_RATE:g}."
        )
    if end > 1e-3 * LEARNING_RATE or not 0.3 * LEARNING_RATE < middle < 0.7 * LEARNING_RATE:
        raise GradingFailure(
            f"called with epochs={EPOCHS} on {IMAGES} images (a run of {STEPS} steps), the "
            f"learning rate is {middle:.3g} halfway and {end:.3g} after the last step; it should "
            f"fall from {LEARNING_RATE:g} to about half that halfway and to 0 at the end. "
            "decay_steps is the number of steps of the whole run: epochs times the steps of one "
            "epoch, ceil(m / 32) for m training images."
        )


def _check_momentum(model: keras.Model, steps: int, batch_mean: np.ndarray) -> None:
    """Every BatchNormalization layer has MOMENTUM, and the first one's moving mean, after
    `steps` steps on batches of mean `batch_mean` (per channel), shows that training used it."""
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    wrong = [layer for layer in norms if not np.isclose(layer.momentum, MOMENTUM)]
    if wrong:
        found = sorted({round(float(layer.momentum), 4) for layer in wrong})
        raise GradingFailure(
            f"{len(wrong)} of the model's {len(norms)} BatchNormalization layers have momentum "
            f"{', '.join(map(str, found))}, not {MOMENTUM}. Give every BatchNormalization layer "
            f"of the model momentum {MOMENTUM} (look through model.layers)."
        )
    moving_mean = keras.ops.convert_to_numpy(norms[0].moving_mean)
    expected = (1 - MOMENTUM**steps) * batch_mean
    if steps and not np.allclose(moving_mean, expected, rtol=0.05, atol=1e-4):
        raise GradingFailure(
            f"the layers have momentum {MOMENTUM} now, but training did not use it: the moving "
            f"means moved as with another momentum. Set the momentum before model.compile and "
            "model.fit: the training step reads it when it is built."
        )


def _check_steps(steps: int, history: keras.callbacks.History) -> None:
    if steps != STEPS or len(history.epoch) != EPOCHS:
        raise GradingFailure(
            f"called with epochs={EPOCHS} on {IMAGES} images, {NAME} trained "
            f"{len(history.epoch)} epochs of {steps} steps in all; {EPOCHS} epochs of mini-batches "
            f"of {BATCH_SIZE} are {STEPS} steps. Pass epochs=epochs and batch_size={BATCH_SIZE} "
            "to model.fit."
        )


def _check_validation(history: keras.callbacks.History) -> None:
    if not {"val_loss", "val_accuracy"} <= set(history.history):
        raise GradingFailure(
            "the History holds no validation numbers: pass validation_data=(X_val, Y_val) to "
            "model.fit, so that each epoch ends with the accuracy on the validation signers."
        )
