"""Evaluation helpers: scores, confidence intervals, transformed splits and photos from files, on
real and broken input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from course_utils.data.paths import default_source_dir
from course_utils.evaluate import (
    DIRECT_CALL_BATCHES,
    augmentation_robustness_images,
    load_image,
    mirror_images,
    predict_probabilities,
    predict_with_mirror,
    preprocess,
    scores,
    wilson_interval,
)

EXAMPLE = default_source_dir() / "Examples" / "example_3.JPG"


def test_scores_count_the_confusion_matrix_and_per_class_scores():
    result = scores(np.array([[0, 0, 1, 2, 2, 2]]), np.array([0, 1, 1, 2, 2, 0]), 4)
    assert result.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(
        result.confusion, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    )
    np.testing.assert_allclose(result.precision[:3], [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(result.recall[:3], [1 / 2, 1, 2 / 3])
    assert np.isnan(result.precision[3]) and np.isnan(result.recall[3])


def test_scores_refuse_predictions_of_another_length():
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        scores(np.array([0, 1, 2]), np.array([0, 1]), 3)


def test_preprocess_scales_uint8_and_refuses_already_scaled_images():
    x = np.array([[[[0, 128, 255]]]], dtype=np.uint8)
    np.testing.assert_allclose(preprocess(x), [[[[0, 128 / 255, 1]]]])
    with pytest.raises(ValueError, match="expected uint8"):
        preprocess(x / 255.0)


def _small_classifier():
    import keras

    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(4, 3, strides=4, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(6, activation="softmax")(x))


def test_predict_probabilities_batch_by_batch_and_through_model_predict_agree():
    model = _small_classifier()
    images = np.random.default_rng(0).integers(0, 256, (70, 64, 64, 3), dtype=np.uint8)
    few_batches = predict_probabilities(model, images, batch_size=32)  # called batch by batch
    many_batches = predict_probabilities(model, images, batch_size=70 // (DIRECT_CALL_BATCHES + 1))
    assert few_batches.shape == many_batches.shape == (70, 6)
    np.testing.assert_allclose(few_batches, many_batches, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(few_batches.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(
        predict_probabilities(model, images[:1])[0], few_batches[0], rtol=1e-5
    )
    with pytest.raises(ValueError, match="no images to predict"):
        predict_probabilities(model, images[:0])


def test_augmentation_robustness_images_are_fixed_uint8_images_that_differ_from_the_originals():
    rng = np.random.default_rng(0)
    images = np.full((4, 64, 64, 3), 150, dtype=np.uint8)
    images[:, 20:44, 26:38] = rng.integers(0, 100, (4, 24, 12, 3), dtype=np.uint8)
    transformed = augmentation_robustness_images(images)
    assert transformed.shape == images.shape and transformed.dtype == np.uint8
    np.testing.assert_array_equal(transformed, augmentation_robustness_images(images))
    assert np.abs(transformed.astype(int) - images).mean() > 10


def test_mirror_images_flip_left_and_right_only():
    images = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    mirrored = mirror_images(images)
    assert mirrored.dtype == np.uint8 and mirrored.flags.c_contiguous
    np.testing.assert_array_equal(mirrored[:, :, 0], images[:, :, 3])
    np.testing.assert_array_equal(mirrored[:, 1, :, 2], images[:, 1, ::-1, 2])
    np.testing.assert_array_equal(mirror_images(mirrored), images)


def test_predict_with_mirror_averages_each_image_with_its_mirror_image():
    model = _small_classifier()
    images = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    averaged = predict_with_mirror(model, images)
    by_hand = (
        predict_probabilities(model, images) + predict_probabilities(model, images[:, :, ::-1])
    ) / 2
    np.testing.assert_allclose(averaged, by_hand, rtol=1e-6)
    np.testing.assert_allclose(averaged.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize(
    "successes, n, low, high",
    [  # R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
        # seven methods", Statistics in Medicine 17 (1998) 857-872: its examples, Wilson's method
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_stays_in_0_1_and_narrows_with_more_trials_or_less_confidence():
    assert wilson_interval(120, 120)[1] == 1.0 and wilson_interval(0, 120)[0] == 0.0
    low, high = wilson_interval(119, 120)
    assert 0.95 < low < 119 / 120 < high < 1.0
    assert wilson_interval(1190, 1200)[1] - wilson_interval(1190, 1200)[0] < high - low
    assert wilson_interval(119, 120, confidence=0.99)[0] < low
    np.testing.assert_allclose(sum(wilson_interval(60, 120)), 1.0)  # symmetric about 1/2


@pytest.mark.parametrize(
    "successes, n, confidence, message",
    [(3, 2, 0.95, "0 <= successes <= n"), (0, 0, 0.95, "n > 0"), (1, 2, 95, "fraction")],
)
def test_wilson_interval_refuses_impossible_counts_and_confidences(
    successes, n, confidence, message
):
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, n, confidence)


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="needs the Sign Language Digits folder")
def test_load_image_reads_a_dataset_photo_as_a_64x64_uint8_image():
    image = load_image(EXAMPLE)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, load_image(EXAMPLE.read_bytes()))


def test_load_image_crops_a_centred_square_and_turns_the_photo_upright(tmp_path):
    photo = np.zeros((60, 120, 3), dtype=np.uint8)
    photo[:, 30:90] = 255  # the centred square is white, the sides black
    path = tmp_path / "wide.png"
    Image.fromarray(photo).save(path)
    assert load_image(path).mean() > 240  # squashing the whole photo would give about 128

    rotated = Image.fromarray(photo)
    exif = rotated.getexif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees to display
    rotated.save(tmp_path / "tagged.jpg", exif=exif)
    assert load_image(tmp_path / "tagged.jpg").shape == (64, 64, 3)


def test_load_image_names_a_missing_file_and_a_file_that_is_no_image(tmp_path):
    with pytest.raises(ValueError, match="missing.jpg does not exist"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(ValueError, match="notes.jpg is not an image"):
        load_image(tmp_path / "notes.jpg")
    with pytest.raises(ValueError, match="uploaded bytes is not an image"):
        load_image(b"\x00\x01")
