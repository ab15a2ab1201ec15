"""Grad-CAM and saliency maps on tiny models whose answer is known."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers
from keras.initializers import Constant

from course_utils.grad_cam import grad_cam, last_layer_of_size, saliency_map


def brightness_model(logit_scale: float = 1.0) -> keras.Model:
    """Class 0 scores the image's mean brightness, class 1 its opposite.

    features (m, 16, 16, 1) = ReLU(mean of the colour channels); logits = (+s, -s) x their mean.
    """
    inputs = keras.Input((16, 16, 3))
    features = layers.Conv2D(
        1, 1, use_bias=False, activation="relu", name="features",
        kernel_initializer=Constant(1 / 3),
    )(inputs)  # fmt: skip
    pooled = layers.GlobalAveragePooling2D()(features)
    outputs = layers.Dense(
        2, activation="softmax", kernel_initializer=Constant([[logit_scale, -logit_scale]])
    )(pooled)
    return keras.Model(inputs, outputs)


def bright_top_left(m: int = 1) -> np.ndarray:
    """uint8 (m, 16, 16, 3): black, with a white 8x8 square in the top-left corner."""
    images = np.zeros((m, 16, 16, 3), dtype=np.uint8)
    images[:, :8, :8] = 255
    return images


def test_grad_cam_lights_up_exactly_where_the_features_raise_the_class_score():
    heatmap = grad_cam(brightness_model(), bright_top_left(), "features", class_index=0)[0]
    np.testing.assert_allclose(heatmap[:8, :8], 1.0, atol=1e-6)
    np.testing.assert_allclose(heatmap[8:, :], 0.0, atol=1e-6)
    np.testing.assert_allclose(heatmap[:, 8:], 0.0, atol=1e-6)


def test_grad_cam_is_empty_for_a_class_that_the_features_argue_against():
    heatmap = grad_cam(brightness_model(), bright_top_left(), "features", class_index=1)
    np.testing.assert_array_equal(heatmap, 0.0)


def test_grad_cam_explains_the_predicted_class_by_default():
    model, images = brightness_model(), bright_top_left()
    np.testing.assert_array_equal(
        grad_cam(model, images, "features"), grad_cam(model, images, "features", class_index=0)
    )


def test_grad_cam_uses_the_score_before_the_softmax_so_a_saturated_softmax_still_explains():
    saturated = brightness_model(logit_scale=1000.0)  # class 0 probability is 1.0 in float32
    heatmap = grad_cam(saturated, bright_top_left(), "features", class_index=0)[0]
    np.testing.assert_allclose(heatmap[:8, :8], 1.0, atol=1e-6)


def strided_model() -> keras.Model:
    """Features on a 4x4 grid (a 4x4 convolution with stride 4), then the brightness classifier."""
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(2, 3, padding="same", activation="relu", name="full_size")(inputs)
    features = layers.Conv2D(
        1, 4, strides=4, use_bias=False, activation="relu", name="grid",
        kernel_initializer=Constant(1 / 48),
    )(inputs)  # fmt: skip
    pooled = layers.Concatenate()(
        [layers.GlobalAveragePooling2D()(features), layers.GlobalAveragePooling2D()(x)]
    )
    outputs = layers.Dense(2, activation="softmax", kernel_initializer=Constant(1.0))(pooled)
    return keras.Model(inputs, outputs)


def test_grad_cam_upsamples_a_coarse_map_to_the_image_and_keeps_its_peak_in_place():
    images = np.concatenate([bright_top_left(), bright_top_left()[:, ::-1]])  # then bottom-left
    heatmaps = grad_cam(strided_model(), images, "grid", class_index=0, batch_size=1)
    assert heatmaps.shape == (2, 16, 16) and heatmaps.dtype == np.float32
    assert heatmaps.min() >= 0.0 and heatmaps.max() == pytest.approx(1.0)
    assert heatmaps[0, :8, :8].mean() > 5 * heatmaps[0, 8:, 8:].mean()
    assert heatmaps[1, 8:, :8].mean() > 5 * heatmaps[1, :8, 8:].mean()


def test_grad_cam_and_saliency_give_one_map_in_0_1_per_image_in_batches():
    images = np.random.default_rng(0).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    model = strided_model()
    for maps in (
        grad_cam(model, images, "grid", class_index=np.array([0, 1, 0, 1, 0]), batch_size=2),
        saliency_map(model, images, batch_size=2),
    ):
        assert maps.shape == (5, 16, 16) and maps.dtype == np.float32
        assert maps.min() >= 0.0 and maps.max() <= 1.0


def test_saliency_is_zero_outside_the_region_the_score_reads():
    inputs = keras.Input((16, 16, 3))
    top_left = layers.Cropping2D(((0, 8), (0, 8)))(inputs)  # the score sees rows and columns 0-7
    pooled = layers.GlobalAveragePooling2D()(top_left)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(pooled))
    images = np.random.default_rng(1).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    maps = saliency_map(model, images, class_index=0)
    assert np.all(maps[:, :8, :8] > 0)
    np.testing.assert_array_equal(maps[:, 8:, :], 0.0)
    np.testing.assert_array_equal(maps[:, :, 8:], 0.0)


def test_last_layer_of_size_finds_the_end_of_each_resolution():
    model = strided_model()
    assert last_layer_of_size(model, 4) == "grid"
    assert last_layer_of_size(model, 16) == "full_size"
    with pytest.raises(ValueError, match="no layer whose output is a 3x3 feature map"):
        last_layer_of_size(model, 3)
