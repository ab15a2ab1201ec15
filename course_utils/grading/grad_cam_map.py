"""Grader of chapter 7's `grad_cam_map`: Grad-CAM's maps from feature maps and gradients.

The check calls the learner's function on three kinds of input and compares what it returns with
the course's `course_utils.grad_cam.grad_cam_map`:

1. small arrays whose maps are known by hand (the tests of the course's function show them):
   gradients that vary from cell to cell, and a weighted sum that is negative in one cell;
2. random arrays of distinct sizes m, h, w and K, so that an axis mixed up shows;
3. a tiny network, a convolution followed by a global average and a Dense layer, whose map is
   known in closed form: the score's gradient with respect to A^k_ij is w_kc / (h w) in every cell,
   so the map is ReLU(sum_k w_kc A^k) / (h w), Zhou et al.'s class activation map (CVPR 2016).

Where the maps differ, the learner's output is compared with a catalogue of plausible mistakes
(the sum of the gradients instead of their mean, each cell's own gradient, no ReLU or the ReLU in
the wrong place, a map already scaled) to name the one made.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from course_utils.grad_cam import feature_maps_and_gradients
from course_utils.grad_cam import grad_cam_map as reference_grad_cam_map
from course_utils.grading.harness import GradingFailure, call_learner, report
from course_utils.grading.own_work import require_own_function

NAME = "grad_cam_map"
SIGNATURE = "grad_cam_map(features, gradients)"
RTOL = 1e-4
ATOL = 1e-6


def check_grad_cam_map(function: Callable) -> bool:
    """Grade a learner's `grad_cam_map` (chapter 7). Prints ``All tests passed.`` and returns
    True, or prints what is wrong and returns False. Never raises."""
    return report(lambda: _check(function))


def hand_case() -> tuple[np.ndarray, np.ndarray]:
    """One image, 2 x 3 cells, 2 channels. Channel 0's gradients average 1 and channel 1's -1,
    though they vary from cell to cell, so the map is ReLU(A^0 - A^1) = [[0, 2, 2], [2, 7, 6]]."""
    a0 = [[1, 2, 3], [4, 5, 6]]
    a1 = [[3, 0, 1], [2, -2, 0]]
    g0 = [[0, 2, 0], [1, 0, 3]]
    g1 = [[-2, 0, 0], [0, 0, -4]]
    features = np.stack([a0, a1], axis=-1)[None].astype(np.float32)
    gradients = np.stack([g0, g1], axis=-1)[None].astype(np.float32)
    return features, gradients


def random_case() -> tuple[np.ndarray, np.ndarray]:
    """m = 3 images of 4 x 5 cells and K = 6 channels, normal features and gradients."""
    rng = np.random.default_rng(6)
    shape = (3, 4, 5, 6)
    return (
        rng.normal(size=shape).astype(np.float32),
        rng.normal(size=shape).astype(np.float32),
    )


def tiny_network() -> keras.Model:
    """(m, 6, 7, 3) images -> convolution "features" (m, 6, 7, 4) -> global average -> Dense(3)
    scores, no softmax."""
    keras.utils.set_random_seed(6)
    inputs = keras.Input((6, 7, 3))
    features = keras.layers.Conv2D(4, 3, padding="same", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(3, name="scores")(pooled))


def network_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tiny network's feature maps and class-1 gradients for 4 random images, and the class
    activation maps ReLU(sum_k w_k1 A^k) / (h w) that Grad-CAM must give for them."""
    model = tiny_network()
    images = np.random.default_rng(7).integers(0, 256, (4, 6, 7, 3), dtype=np.uint8)
    features, gradients = feature_maps_and_gradients(model, images, "features", class_index=1)
    kernel = keras.ops.convert_to_numpy(model.get_layer("scores").kernel)  # (K, classes)
    h, w = features.shape[1:3]
    cam = np.maximum(np.einsum("mhwk,k->mhw", features, kernel[:, 1]), 0.0) / (h * w)
    return features, gradients, cam


def _check(function: Callable) -> None:
    require_own_function(function, NAME)
    features, gradients, cam = network_case()
    cases = [
        ("the hand-made 2 x 3 example", *hand_case(), None),
        ("random arrays of shape (3, 4, 5, 6)", *random_case(), None),
        ("a tiny network's feature maps (4, 6, 7, 4)", features, gradients, cam),
    ]
    for description, case_features, case_gradients, known in cases:
        if known is None:
            expected = reference_grad_cam_map(case_features, case_gradients)
        else:
            expected = known
        returned = call_learner(
            function, case_features.copy(), case_gradients.copy(), what=NAME, signature=SIGNATURE
        )
        try:
            _compare(returned, expected, case_features, case_gradients)
        except GradingFailure as failure:
            raise GradingFailure(f"on {description}: {failure}") from None


def _compare(returned, expected: np.ndarray, features: np.ndarray, gradients: np.ndarray) -> None:
    try:
        found = np.asarray(returned, dtype=np.float64)
    except (TypeError, ValueError):
        raise GradingFailure(
            f"{NAME} returned {type(returned).__name__}, not an array of numbers."
        ) from None
    if found.shape != expected.shape:
        raise GradingFailure(
            f"{NAME} returned shape {found.shape}; the maps have shape {expected.shape}, "
            "(m, h, w): one h x w map per image, the weighted sum over the channels k (the last "
            "axis)."
        )
    if np.allclose(found, expected, rtol=RTOL, atol=ATOL):
        return
    mistake = _name_mistake(found, features, gradients)
    where = np.unravel_index(np.argmax(np.abs(found - expected)), expected.shape)
    detail = (
        f"image {where[0]}, cell ({where[1]}, {where[2]}): {found[where]:.4g} where Grad-CAM gives "
        f"{expected[where]:.4g}"
    )
    raise GradingFailure(f"the maps differ from Grad-CAM's ({detail}). {mistake}".strip())


def _name_mistake(found: np.ndarray, features: np.ndarray, gradients: np.ndarray) -> str:
    alpha = gradients.mean(axis=(1, 2), keepdims=True)
    weighted = (alpha * features).sum(axis=-1)
    relu = np.maximum(weighted, 0.0)
    h, w = features.shape[1:3]
    peak = relu.max(axis=(1, 2), keepdims=True)
    catalogue = [
        (
            weighted,
            "Keep the positive part of the weighted sum: apply a ReLU, np.maximum(..., 0).",
        ),
        (
            relu * h * w,
            "alpha_k is the mean of channel k's gradients over the h x w cells, not their sum.",
        ),
        (
            np.maximum((gradients * features).sum(axis=-1), 0.0),
            "Weigh each channel by one number, alpha_k, the mean of its gradients over all cells, "
            "not each cell by its own gradient.",
        ),
        (
            (alpha * np.maximum(features, 0.0)).sum(axis=-1),
            "Apply the ReLU once, to the weighted sum over the channels, not to the feature maps.",
        ),
        (
            relu / np.where(peak > 0, peak, 1.0),
            "Return the maps before any scaling: grad_cam divides them by their maximum later.",
        ),
    ]
    for candidate, hint in catalogue:
        if candidate.shape == found.shape and np.allclose(found, candidate, rtol=RTOL, atol=ATOL):
            return f"Hint: {hint}"
    return (
        "Check the formula: alpha_k = mean over i, j of gradients[..., k] for each image, then "
        "ReLU(sum over k of alpha_k * features[..., k])."
    )
