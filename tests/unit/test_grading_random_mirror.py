"""check_random_mirror (chapter 6) accepts a per-image mirror written in other ways and refuses
each way of getting it wrong, naming the mistake: the wrong axis, all or none, one draw per batch,
NumPy or a fixed batch size inside tf.data, a draw that never changes, the wrong rate or dtype."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils.grading import check_random_mirror
from course_utils.training.mirror_finetune import random_mirror


def with_slicing(images):
    mask = tf.cast(tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.5, images.dtype)
    return mask * images[:, :, ::-1, :] + (1.0 - mask) * images


def with_tf_image(images):
    return tf.image.random_flip_left_right(images)


def upside_down(images):
    mask = tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.5
    return tf.where(mask, tf.reverse(images, axis=[1]), images)


def colours_reversed(images):
    mask = tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.5
    return tf.where(mask, tf.reverse(images, axis=[3]), images)


def always(images):
    return tf.reverse(images, axis=[2])


def never(images):
    return tf.identity(images)


def one_draw_per_batch(images):
    return tf.cond(
        tf.random.uniform(()) < 0.5, lambda: tf.reverse(images, axis=[2]), lambda: images
    )


def with_numpy(images):
    mask = np.random.rand(len(images)) < 0.5
    return np.where(mask[:, None, None, None], np.asarray(images)[:, :, ::-1], images)


def fixed_batch_size(images):
    mask = tf.random.uniform((400, 1, 1, 1)) < 0.5
    return tf.where(mask, tf.reverse(images, axis=[2]), images)


def fixed_seed(images):
    mask = tf.random.stateless_uniform((tf.shape(images)[0], 1, 1, 1), seed=(1, 2)) < 0.5
    return tf.where(mask, tf.reverse(images, axis=[2]), images)


def rarely(images):
    mask = tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.1
    return tf.where(mask, tf.reverse(images, axis=[2]), images)


def as_float64(images):
    return tf.cast(with_slicing(images), tf.float64)


def verdict(function, capsys) -> tuple[bool, str]:
    passed = check_random_mirror(function)
    return passed, capsys.readouterr().out


@pytest.mark.parametrize("function", [with_slicing, with_tf_image], ids=lambda f: f.__name__)
def test_a_per_image_mirror_written_another_way_passes(function, capsys):
    passed, out = verdict(function, capsys)
    assert passed, out
    assert out.strip() == "All tests passed."


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (upside_down, "upside down, not mirrored"),
        (colours_reversed, "colour channels are reversed"),
        (always, "mirrored every image"),
        (never, "never mirrored an image"),
        (one_draw_per_batch, "one draw for the"),
        (with_numpy, "TensorFlow operations, tf.shape(images)[0]"),
        (fixed_batch_size, "TensorFlow operations, tf.shape(images)[0]"),
        (fixed_seed, "the same images on each of its 5 calls"),
        (rarely, "expect about 200"),
        (as_float64, "keep the dtype"),
        (random_mirror, "course's reference implementation"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_wrong_random_mirror_is_refused_with_its_hint(function, hint, capsys):
    passed, out = verdict(function, capsys)
    assert not passed, out
    assert hint in out


def test_a_draw_made_once_when_tf_data_traces_is_caught_by_its_batches(capsys):
    def numpy_draw(images):
        # A new NumPy draw on every direct call, but a constant in tf.data's graph.
        mask = tf.constant(np.random.rand(1000) < 0.5)[: tf.shape(images)[0]]
        return tf.where(mask[:, None, None, None], tf.reverse(images, axis=[2]), images)

    passed, out = verdict(numpy_draw, capsys)
    assert not passed
    assert "mirrored the same images in every batch" in out


def test_a_right_mirror_passes_after_a_global_seed_was_set(capsys):
    # With a global seed, TensorFlow repeats a tf.data map's draws in every epoch, by design.
    keras.utils.set_random_seed(0)
    passed, out = verdict(with_slicing, capsys)
    assert passed, out
