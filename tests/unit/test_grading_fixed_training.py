"""check_fix_and_train (chapter 5) accepts the fix and the original recipe, trained with the
validation images, and refuses each way of getting it wrong: the momentum missing, partial,
wrong or set after training, a learning rate that stays or does not reach 0 at the end of the
run, the epochs or mini-batch ignored, no validation data, another loss, no History, no
compile, and the course's reference."""

from __future__ import annotations

import math

import keras
import pytest

from course_utils.grading import check_fix_and_train
from course_utils.training.batchnorm import fix_and_train as reference_fix_and_train


def with_momentum(model, momentum=0.9, first_only=False):
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms[:1] if first_only else norms:
        layer.momentum = momentum


def compile_original(model, loss="categorical_crossentropy", decay_steps=4):
    rate = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=decay_steps)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=loss, metrics=["accuracy"])


def fit(model, X, Y, X_val, Y_val, epochs, batch_size=32, validation=True):
    data = (X_val, Y_val) if validation else None
    return model.fit(X, Y, epochs=epochs, batch_size=batch_size, validation_data=data, verbose=0)


def honest(model, X_train, Y_train, X_val, Y_val, epochs):
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    steps = epochs * math.ceil(len(X_train) / 32)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Keras's progress bars, as in the notebook: the check does not show them.
    return model.fit(X_train, Y_train, epochs=epochs, batch_size=32,
                     validation_data=(X_val, Y_val))  # fmt: skip


def no_fix(model, X, Y, X_val, Y_val, epochs):
    compile_original(model)
    return fit(model, X, Y, X_val, Y_val, epochs)


def first_layer_only(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model, first_only=True)
    compile_original(model)
    return fit(model, X, Y, X_val, Y_val, epochs)


def other_momentum(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model, 0.5)
    compile_original(model)
    return fit(model, X, Y, X_val, Y_val, epochs)


def fix_after_training(model, X, Y, X_val, Y_val, epochs):
    compile_original(model)
    history = fit(model, X, Y, X_val, Y_val, epochs)
    with_momentum(model)
    return history


def five_epochs(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model)
    return fit(model, X, Y, X_val, Y_val, 5)


def batches_of_16(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model)
    return fit(model, X, Y, X_val, Y_val, epochs, batch_size=16)


def no_validation(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model)
    return fit(model, X, Y, X_val, Y_val, epochs, validation=False)


def sparse_loss(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model, loss="sparse_categorical_crossentropy")
    return fit(model, X, Y.argmax(axis=1), X_val, Y_val.argmax(axis=1), epochs)


def returns_nothing(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model)
    fit(model, X, Y, X_val, Y_val, epochs)


def constant_rate(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return fit(model, X, Y, X_val, Y_val, epochs)


def decays_per_epoch(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model, decay_steps=epochs)
    return fit(model, X, Y, X_val, Y_val, epochs)


def decays_too_slowly(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    compile_original(model, decay_steps=1000)
    return fit(model, X, Y, X_val, Y_val, epochs)


def linear_decay(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    steps = epochs * math.ceil(len(X) / 32)
    rate = keras.optimizers.schedules.PolynomialDecay(1e-3, steps, end_learning_rate=0.0)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    return fit(model, X, Y, X_val, Y_val, epochs)


def never_compiles(model, X, Y, X_val, Y_val, epochs):
    with_momentum(model)
    return fit(model, X, Y, X_val, Y_val, epochs)


def verdict(function, capsys) -> tuple[bool, str]:
    passed = check_fix_and_train(function)
    return passed, capsys.readouterr().out


def test_the_fix_with_the_original_recipe_passes(capsys):
    assert verdict(honest, capsys) == (True, "All tests passed.\n")


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (no_fix, "2 of the model's 2 BatchNormalization layers have momentum 0.99, not 0.9"),
        (first_layer_only, "1 of the model's 2 BatchNormalization layers have momentum 0.99"),
        (other_momentum, "have momentum 0.5, not 0.9"),
        (fix_after_training, "training did not use it"),
        (five_epochs, "trained 5 epochs of 10 steps in all; 2 epochs of mini-batches of 32 are 4"),
        (batches_of_16, "trained 2 epochs of 6 steps"),
        (no_validation, "pass validation_data=(X_val, Y_val)"),
        (sparse_loss, "the loss is 'sparse_categorical_crossentropy'"),
        (returns_nothing, "returned NoneType; return the History that model.fit returns"),
        (never_compiles, "fix_and_train raised"),
        (constant_rate, "Adam's learning rate is the constant 0.001"),
        (decays_per_epoch, "0 halfway and 0 after the last step"),
        (decays_too_slowly, "0.001 after the last step"),
    ],
)
def test_a_wrong_fix_fails_with_its_hint(wrong, hint, capsys):
    passed, printed = verdict(wrong, capsys)
    assert not passed
    assert printed.startswith("Test failed: ")
    assert hint in printed


def test_another_rate_that_falls_to_half_then_to_zero_passes(capsys):
    assert verdict(linear_decay, capsys)[0]


def test_the_course_s_reference_is_refused(capsys):
    passed, printed = verdict(reference_fix_and_train, capsys)
    assert not passed
    assert "course's reference implementation" in printed


def test_what_the_function_prints_is_shown(capsys):
    def printing(*args):
        print("training now")
        return honest(*args)

    passed, printed = verdict(printing, capsys)
    assert passed
    assert printed == "Your function printed:\n    training now\nAll tests passed.\n"
