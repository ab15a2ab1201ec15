"""Grader of chapter 5's exercise: the learner's ResNet-50, compiled with the original recipe.

The check reads the model's compile configuration (`keras.Model.get_compile_config`), then trains
a fresh copy of the model (`keras.models.clone_model`, so the learner's own weights are left
untouched) for a few steps on one fixed batch and requires the loss to fall: a compiled model that
cannot learn a batch it sees again and again cannot learn the training set either.
"""

from __future__ import annotations

import keras
import numpy as np

from course_utils.data.split import N_CLASSES
from course_utils.grading.harness import GradingFailure, report

LEARNING_RATE = 1e-3
BATCH = 6
STEPS = 3
INPUT_SHAPE = (64, 64, 3)


def check_training(model) -> bool:
    """Grade a learner's compiled ResNet-50 (chapter 5): the original recipe, and it learns.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises. Trains a copy of the model for STEPS steps, one at a time in Python.
    """
    return report(lambda: _check_training(model))


def _check_training(model) -> None:
    if not isinstance(model, keras.Model):
        raise GradingFailure(
            f"model is {type(model).__name__}, not a Keras model: build it with "
            "`model = ResNet50(input_shape=(64, 64, 3), classes=6)`."
        )
    _check_shapes(model)
    config = model.get_compile_config()
    if not config:
        raise GradingFailure(
            "the model is not compiled yet: call model.compile with the original recipe's "
            "optimizer, loss and metric before you train it."
        )
    check_original_recipe(config)
    _check_it_learns(model, config)


def check_original_recipe(config: dict) -> None:
    """Raise GradingFailure unless a compile configuration (`keras.Model.get_compile_config`)
    holds the original recipe: Adam with its default learning rate, categorical cross-entropy,
    accuracy."""
    _check_optimizer(config["optimizer"])
    _check_loss(config["loss"])
    _check_metrics(config.get("metrics"))


def _check_shapes(model: keras.Model) -> None:
    inputs, outputs = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    if inputs != INPUT_SHAPE or outputs != (N_CLASSES,):
        raise GradingFailure(
            f"the model maps {inputs} images to {outputs} outputs; the course's data needs "
            f"{INPUT_SHAPE} images to ({N_CLASSES},) class probabilities: "
            "`ResNet50(input_shape=(64, 64, 3), classes=6)`."
        )


def _name(serialized) -> str:
    """The class or function name of a serialized optimizer, loss or metric, lowercase."""
    if isinstance(serialized, str):
        return serialized.lower()
    if isinstance(serialized, dict):
        return str(serialized.get("class_name", serialized.get("config", ""))).lower()
    return type(serialized).__name__.lower()


def _check_optimizer(optimizer) -> None:
    if _name(optimizer) != "adam":
        raise GradingFailure(
            f"the optimizer is {_name(optimizer)!r}; the original recipe uses Adam, with its "
            "default settings."
        )
    rate = optimizer.get("config", {}).get("learning_rate") if isinstance(optimizer, dict) else None
    if isinstance(rate, float) and not np.isclose(rate, LEARNING_RATE):
        raise GradingFailure(
            f"Adam's learning rate is {rate:g}; the original recipe uses Adam's default, "
            f"{LEARNING_RATE:g} (`optimizer='adam'`)."
        )


def _check_loss(loss) -> None:
    name = _name(loss).replace("_", "")
    if name != "categoricalcrossentropy":
        hint = (
            " Sparse cross-entropy expects integer labels; Y_train holds one-hot rows."
            if "sparse" in name
            else ""
        )
        raise GradingFailure(
            f"the loss is {_name(loss)!r}. The labels are one-hot rows of six classes (Y_train "
            f"has shape (m, 6)), so the loss is categorical cross-entropy.{hint}"
        )
    if isinstance(loss, dict) and loss.get("config", {}).get("from_logits"):
        raise GradingFailure(
            "the loss has from_logits=True, but ResNet50 ends with a softmax: its outputs are "
            "probabilities. Use loss='categorical_crossentropy'."
        )


def _check_metrics(metrics) -> None:
    names = {_name(m) for m in (metrics or [])}
    if not names & {"accuracy", "acc", "categoricalaccuracy", "categorical_accuracy"}:
        raise GradingFailure(
            "the model reports no accuracy: add the accuracy metric to the compile call, so that "
            "fit and evaluate print it."
        )


def _check_it_learns(model: keras.Model, config: dict) -> None:
    keras.utils.set_random_seed(0)
    copy = keras.models.clone_model(model)
    copy.compile_from_config(config)
    copy.run_eagerly = True
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, *INPUT_SHAPE), dtype=np.float32)
    y = np.eye(N_CLASSES, dtype=np.float32)[np.arange(BATCH) % N_CLASSES]
    losses = []
    for _ in range(STEPS):
        result = copy.train_on_batch(x, y, return_dict=True)
        losses.append(float(result["loss"]))
    if not np.all(np.isfinite(losses)):
        raise GradingFailure(f"training produced a loss of {losses[-1]}: check the loss and model.")
    if not losses[-1] < losses[0]:
        raise GradingFailure(
            f"{STEPS} training steps on one fixed batch of {BATCH} images did not lower the loss "
            f"({losses[0]:.3f} -> {losses[-1]:.3f}): a model that cannot learn one batch it sees "
            "again and again cannot learn the training set. Check the optimizer and the loss of "
            "your compile call."
        )
