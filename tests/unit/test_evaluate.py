"""Evaluation helpers: scores, the stress test and photos from files, on real and broken input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from course_utils.data.paths import default_source_dir
from course_utils.evaluate import (
    DIRECT_CALL_BATCHES,
    load_image,
    predict_probabilities,
    preprocess,
    scores,
    stress_test_images,
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


def test_stress_test_images_are_fixed_uint8_images_that_differ_from_the_originals():
    rng = np.random.default_rng(0)
    images = np.full((4, 64, 64, 3), 150, dtype=np.uint8)
    images[:, 20:44, 26:38] = rng.integers(0, 100, (4, 24, 12, 3), dtype=np.uint8)
    stressed = stress_test_images(images)
    assert stressed.shape == images.shape and stressed.dtype == np.uint8
    np.testing.assert_array_equal(stressed, stress_test_images(images))
    assert np.abs(stressed.astype(int) - images).mean() > 10


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
