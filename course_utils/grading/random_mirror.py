"""Grader of chapter 6's `random_mirror`: each image of a batch mirrored left to right with
probability 1/2, on its own draw, anew on every call, inside `tf.data`.

The check gives the learner's function batches of M small images whose values all differ, so that
every output image can be told apart: the input itself, its left-right mirror image, or something
else (upside down, colours reversed...), which is named. Then it counts:

1. called directly, five times: each call mirrors between LOW and HIGH of the M images (with
   probability 1/2 each, a count outside that range happens less than once in a million calls);
   calls that mirror all images or none show one draw for the whole batch; calls that mirror the
   same images show a draw that does not change;
2. inside `tf.data`, as training calls it: `Dataset.map` over batches of 100, 100 and 50 images.
   This runs the function in a graph, on tensors whose batch size is unknown, so NumPy, Python's
   `random` or a fixed batch size fail here; and a draw made once, when the graph is built,
   mirrors the same images in every batch. (Whether two epochs differ is not asked: once a global
   seed is set, as `keras.utils.set_random_seed` does, TensorFlow's random operations inside
   `tf.data` repeat their draws in every epoch, by design. Shuffled batches still mirror other
   images each epoch.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from course_utils.grading.harness import GradingFailure, LearnerFailure, call_learner, report
from course_utils.grading.own_work import require_own_function

NAME = "random_mirror"
SIGNATURE = "random_mirror(images)"
M = 400
LOW, HIGH = 140, 260  # mirrored images of M: 200 expected, standard deviation 10
IMAGE_SHAPE = (3, 5, 2)  # (n_H, n_W, n_C), all different, so no axis can pass for another
DATASET_IMAGES, DATASET_BATCH = 250, 100
CALLS = 5
GRAPH_HINT = (
    "tf.data calls random_mirror inside a graph, on tensors whose batch size is not known in "
    "advance (the last batch of an epoch is smaller): write it with TensorFlow operations, "
    "tf.shape(images)[0] for the batch size, tf.random.uniform, tf.reverse and tf.where, not "
    "NumPy, Python's random or a fixed batch size."
)


def check_random_mirror(function: Callable) -> bool:
    """Grade a learner's `random_mirror` (chapter 6). Prints ``All tests passed.`` and returns
    True, or prints what is wrong and returns False. Never raises."""
    return report(lambda: _check(function))


def test_images(m: int = M) -> np.ndarray:
    """(m, 3, 5, 2) float32 images whose values all differ."""
    return (np.arange(m * int(np.prod(IMAGE_SHAPE)), dtype=np.float32) / 1000.0).reshape(
        (m, *IMAGE_SHAPE)
    )


def mirrored_mask(found, images: np.ndarray) -> np.ndarray:
    """(m,) bool: which output images are the left-right mirror images of the inputs.

    Raises:
        GradingFailure: the output is not a batch of the inputs' shape and dtype, or an image is
            neither the input nor its mirror image (the mistake named where it is a known one).
    """
    try:
        array = np.asarray(found)
    except (TypeError, ValueError):
        raise GradingFailure(
            f"{NAME} returned {type(found).__name__}, not a batch of images."
        ) from None
    if array.shape != images.shape:
        raise GradingFailure(
            f"{NAME} returned shape {array.shape} for a batch of shape {images.shape}: return "
            "the whole batch, each image the same shape as before."
        )
    if array.dtype != images.dtype:
        raise GradingFailure(
            f"{NAME} returned {array.dtype} images for {images.dtype} ones: keep the dtype (mirror "
            "the images, do not convert them)."
        )
    mirrored = np.empty(len(images), bool)
    for i, (out, image) in enumerate(zip(array, images, strict=True)):
        if np.array_equal(out, image):
            mirrored[i] = False
        elif np.array_equal(out, image[:, ::-1]):
            mirrored[i] = True
        else:
            raise GradingFailure(f"image {i} of the batch: {_what_changed(out, image)}")
    return mirrored


def _what_changed(out: np.ndarray, image: np.ndarray) -> str:
    if np.array_equal(out, image[::-1]):
        return (
            "it is upside down, not mirrored. In a batch of shape (m, n_H, n_W, n_C), axis 1 is "
            "the height and axis 2 the width; a left-right mirror reverses axis 2 (np.fliplr "
            "and np.flip(..., axis=1) on a batch reverse the height)."
        )
    if np.array_equal(out, image[::-1, ::-1]):
        return (
            "it is turned by 180 degrees (reversed in height and width): reverse only axis 2, the "
            "width."
        )
    if np.array_equal(out, image[..., ::-1]) or np.array_equal(out, image[:, ::-1, ::-1]):
        return "its colour channels are reversed: reverse axis 2, the width, not the last axis."
    return "it is neither the input image nor its left-right mirror image."


def _check(function: Callable) -> None:
    require_own_function(function, NAME)
    images = test_images()
    masks = []
    for _ in range(CALLS):
        found = call_learner(function, tf.constant(images), what=NAME, signature=SIGNATURE)
        masks.append(mirrored_mask(found, images))
    _judge_draws(masks, "calls")
    masks = _masks_in_tf_data(function)
    _judge_draws([np.concatenate(masks)], "")
    if np.array_equal(masks[0], masks[1]):
        raise GradingFailure(
            f"inside tf.data, {NAME} mirrored the same images in every batch: it must draw anew "
            "on every call. A draw with NumPy or Python's random happens once, when tf.data "
            "builds its graph; draw with TensorFlow (tf.random.uniform) inside the function."
        )


def _judge_draws(masks: list[np.ndarray], what: str) -> None:
    counts = [int(mask.sum()) for mask in masks]
    if all(count == 0 for count in counts):
        raise GradingFailure(f"{NAME} never mirrored an image: mirror each with probability 1/2.")
    if all(count == mask.size for count, mask in zip(counts, masks, strict=True)):
        raise GradingFailure(
            f"{NAME} mirrored every image: mirror each one with probability 1/2 (half of them, on "
            "average), so that the network sees both hands."
        )
    if all(count in (0, mask.size) for count, mask in zip(counts, masks, strict=True)):
        raise GradingFailure(
            f"{NAME} mirrored all the images of a batch or none of them: that is one draw for the "
            "whole batch. Draw one random number per image, a tensor of shape (m, 1, 1, 1), so "
            "that each image is mirrored on its own."
        )
    for count, mask in zip(counts, masks, strict=True):
        if not LOW * mask.size <= count * M <= HIGH * mask.size:
            raise GradingFailure(
                f"{NAME} mirrored {count} of {mask.size} images; with probability 1/2 for each, "
                f"expect about {mask.size // 2}. Mirror an image where its random number is below "
                "0.5."
            )
    if len(masks) > 1 and all(np.array_equal(masks[0], mask) for mask in masks[1:]):
        raise GradingFailure(
            f"{NAME} mirrored the same images on each of its {len(masks)} {what}: draw new "
            "random numbers on every call (tf.random.uniform, without a fixed seed)."
        )


def _masks_in_tf_data(function: Callable) -> list[np.ndarray]:
    """Which images of each batch of `Dataset.map(function)` came back mirrored: batches of
    DATASET_BATCH images, the last one smaller."""
    images = test_images(DATASET_IMAGES)

    def one_epoch():
        batches = tf.data.Dataset.from_tensor_slices(images).batch(DATASET_BATCH).map(function)
        return [batch.numpy() for batch in batches]

    try:
        found = call_learner(one_epoch, what=f"{NAME} inside tf.data", signature=SIGNATURE)
    except LearnerFailure as failure:
        raise GradingFailure(f"{failure}\nHint: {GRAPH_HINT}") from None
    starts = range(0, DATASET_IMAGES, DATASET_BATCH)
    try:
        return [
            mirrored_mask(batch, images[start : start + DATASET_BATCH])
            for batch, start in zip(found, starts, strict=True)
        ]
    except (GradingFailure, ValueError) as failure:
        raise GradingFailure(f"inside tf.data, {failure}") from None
