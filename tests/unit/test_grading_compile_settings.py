"""check_training (chapter 5) accepts the original recipe and refuses each way of getting it wrong.

A small network with the course's input and output shapes stands in for ResNet-50: the check
reads only the compile settings, the shapes, and whether a copy of the model learns a batch."""

from __future__ import annotations

import keras
import pytest

from course_utils.grading import check_training


def small_network(trainable: bool = True, softmax: bool = True) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(4, 3, strides=4)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(6, activation="softmax" if softmax else None)(x)
    model = keras.Model(inputs, outputs)
    model.trainable = trainable
    return model


def compiled(model=None, **settings) -> keras.Model:
    model = model or small_network()
    recipe = dict(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.compile(**{**recipe, **settings})
    return model


def verdict(model, capsys) -> tuple[bool, str]:
    passed = check_training(model)
    return passed, capsys.readouterr().out


def test_the_original_recipe_passes(capsys):
    assert verdict(compiled(), capsys) == (True, "All tests passed.\n")


def test_the_recipe_written_with_objects_passes(capsys):
    model = compiled(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.CategoricalCrossentropy(),
        metrics=[keras.metrics.CategoricalAccuracy()],
    )
    assert verdict(model, capsys)[0]


def test_the_learners_weights_are_left_untouched(capsys):
    model = compiled()
    before = [w.copy() for w in model.get_weights()]
    check_training(model)
    after = model.get_weights()
    assert all((a == b).all() for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (dict(optimizer="sgd"), "the optimizer is 'sgd'"),
        (dict(optimizer=keras.optimizers.Adam(0.1)), "Adam's learning rate is 0.1"),
        (dict(loss="sparse_categorical_crossentropy"), "Sparse cross-entropy expects integer"),
        (dict(loss="binary_crossentropy"), "the loss is 'binary_crossentropy'"),
        (dict(loss="mse"), "categorical cross-entropy"),
        (
            dict(loss=keras.losses.CategoricalCrossentropy(from_logits=True)),
            "from_logits=True",
        ),
        (dict(metrics=[]), "add the accuracy metric"),
    ],
)
def test_a_wrong_setting_is_named(settings, words, capsys):
    passed, out = verdict(compiled(**settings), capsys)
    assert not passed
    assert words in out
    assert "model.compile(optimizer=" not in out  # a hint at the wrong part, not the answer


def test_a_model_not_compiled_is_told_to_compile(capsys):
    passed, out = verdict(small_network(), capsys)
    assert not passed
    assert "not compiled yet" in out


def test_a_model_that_cannot_learn_is_refused(capsys):
    passed, out = verdict(compiled(small_network(trainable=False)), capsys)
    assert not passed
    assert "did not lower the loss" in out


def test_something_else_than_a_model_is_refused(capsys):
    passed, out = verdict("model", capsys)
    assert not passed
    assert "not a Keras model" in out


def test_a_model_for_other_images_is_refused(capsys):
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(6)(keras.layers.Flatten()(inputs)))
    passed, out = verdict(compiled(model), capsys)
    assert not passed
    assert "(64, 64, 3)" in out
