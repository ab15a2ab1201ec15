"""Evaluation helpers: scores, confidence intervals and transformed splits, on real and broken
input; the photo report and its command line (tests/unit/test_photo_sets.py reads the photos)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.evaluate import (
    DIRECT_CALL_BATCHES,
    augmentation_robustness_images,
    mcnemar_exact,
    mirror_images,
    out_of_range_images,
    predict_probabilities,
    predict_with_mirror,
    scores,
    wilson_interval,
)
from course_utils.training.augment import (
    OUT_OF_RANGE_PROBES,
    AugmentationRanges,
    out_of_range_parameters,
    random_parameters,
    transform_images,
)


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


def test_predictions_scale_uint8_images_and_refuse_already_scaled_ones():
    images = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    model = _small_classifier()
    expected = np.asarray(model(images.astype("float32") / 255.0, training=False))
    np.testing.assert_allclose(predict_probabilities(model, images), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="must be uint8"):
        predict_probabilities(model, images / 255.0)


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


def test_out_of_range_probes_change_the_geometry_beyond_the_training_ranges_and_nothing_else():
    images = np.zeros((8, 64, 64, 3), dtype=np.uint8)
    images[:, 16:48, 28:36] = 200  # an upright bar on black
    for probe in OUT_OF_RANGE_PROBES:
        changed = out_of_range_images(images, probe)
        assert changed.shape == images.shape and changed.dtype == np.uint8
        assert not np.array_equal(changed, images), probe
        np.testing.assert_array_equal(changed, out_of_range_images(images, probe))  # fixed
        # No colour cast, no new background: grey stays grey, nothing brighter than the bar.
        assert np.array_equal(changed[..., 0], changed[..., 2]) and changed.max() <= 200
    small = out_of_range_images(images, "small")
    assert (small > 100).sum() < 0.6**2 * (images > 100).sum() * 1.1
    cropped = out_of_range_images(images, "crop")
    assert (cropped > 100).sum() > 1.25**2 * (images > 100).sum() * 0.8
    with pytest.raises(ValueError, match="unknown probe 'tilt'"):
        out_of_range_images(images, "tilt")


def test_the_mirror_parameter_flips_exactly_the_chosen_images():
    images = np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 3)).astype("float32")
    params = out_of_range_parameters(4, "rotation")
    params = {
        **params,
        "angle": np.zeros(4, "float32"),
        "mirror": np.array([1, 0, 1, 0], "float32"),
    }
    out = np.asarray(transform_images(images, params))
    np.testing.assert_allclose(out[[0, 2]], images[[0, 2], :, ::-1], atol=1e-5)
    np.testing.assert_allclose(out[[1, 3]], images[[1, 3]], atol=1e-5)
    drawn = random_parameters(2000, AugmentationRanges(mirror_probability=0.5), seed=0)["mirror"]
    assert 0.45 < float(np.mean(drawn)) < 0.55
    assert float(np.max(random_parameters(50, AugmentationRanges(), seed=0)["mirror"])) == 0.0


def test_the_mirror_ablation_pairs_two_fine_tunes_that_differ_only_in_the_mirror():
    import dataclasses

    from course_tools.mirror_ablation import ablation_recipes
    from course_utils.training.recipes import COURSE

    without, with_mirror = ablation_recipes(3)
    assert (without.mirror_probability, with_mirror.mirror_probability) == (0.0, 0.5)
    differences = {
        f.name
        for f in dataclasses.fields(COURSE)
        if getattr(without, f.name) != getattr(with_mirror, f.name)
    }
    assert differences == {"name", "mirror_probability"}
    assert without.epochs == 3 and without.warmup_epochs == 0
    assert without.learning_rate == COURSE.learning_rate / 10


def test_mcnemar_counts_only_the_images_where_exactly_one_classifier_is_right():
    first = np.array([True, True, True, False, False, True])
    second = np.array([True, False, False, True, False, True])
    result = mcnemar_exact(first, second)
    assert (result.only_first, result.only_second) == (2, 1)
    assert result.p_value == 1.0  # 2 * P(B <= 1), B ~ Binomial(3, 1/2) = 2 * 4/8


@pytest.mark.parametrize(
    ("b", "c", "p_value"),
    [(0, 5, 2 / 32), (1, 9, 2 * 11 / 1024), (9, 1, 2 * 11 / 1024), (0, 0, 1.0), (4, 4, 1.0)],
)
def test_mcnemar_p_values_are_the_exact_binomial_ones(b, c, p_value):
    first = np.array([True] * b + [False] * c + [True, False])
    second = np.array([False] * b + [True] * c + [True, False])
    assert mcnemar_exact(first, second).p_value == pytest.approx(p_value)


def test_mcnemar_refuses_answers_of_different_images():
    with pytest.raises(ValueError, match="two answers per image"):
        mcnemar_exact(np.ones(3, bool), np.ones(4, bool))
