"""Evaluating a trained ResNet-50: predictions, confusion matrix, per-class scores, confidence
intervals, transformed versions of a split (the training augmentation's own transformations, the
mirror image), and a report on labelled photos from elsewhere.

Every function takes images as the course stores them, uint8 (m, 64, 64, 3), and applies the
course's one scaling itself (`course_utils.data.pipeline.scale_images`: X / 255.0), so that no
caller can forget it.

From the command line, measure the shipped weights (or your own) on photos taken elsewhere:

    python -m course_utils.evaluate PHOTOS [--weights FILE.weights.h5]

PHOTOS is a folder with one subfolder per digit (`0/` ... `5/`) of JPEG or PNG photos, or a
SIGNS-format `.h5` file such as the original assignment's `test_signs.h5`. The report gives the
accuracy of one pass with its Wilson interval, each digit's accuracy, the confusion matrix, the
accuracy on the photos' mirror images (the other hand) and with each photo averaged with its
mirror image.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from course_utils.data.pipeline import scale_images
from course_utils.data.split import N_CLASSES
from course_utils.photo_sets import PhotoSet, PhotoSetError, load_labelled_photos
from course_utils.resnet import ResNet50
from course_utils.training.augment import (
    out_of_range_parameters,
    robustness_parameters,
    transform_images,
)
from course_utils.weights import load_shipped_weights


class Scores(NamedTuple):
    """Accuracy and per-class scores of a set of predictions."""

    accuracy: float
    confusion: np.ndarray  # (C, C) int: row = true class, column = predicted class
    precision: np.ndarray  # (C,) float; NaN for a class never predicted
    recall: np.ndarray  # (C,) float; NaN for a class absent from the labels


# Up to this many batches the model is called batch by batch; more go through `model.predict`,
# whose compiled graph costs a trace that pays off only over many batches.
DIRECT_CALL_BATCHES = 4


def predict_probabilities(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (m, C) of uint8 images (m, 64, 64, 3), in inference mode."""
    x = scale_images(images)
    if len(x) == 0:
        raise ValueError(
            f"no images to predict: images has shape {x.shape}; pass at least one, (m, 64, 64, 3)"
        )
    if len(x) > DIRECT_CALL_BATCHES * batch_size:
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    batches = range(0, len(x), batch_size)
    return np.concatenate(
        [np.asarray(model(x[i : i + batch_size], training=False)) for i in batches]
    )


def scores(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> Scores:
    """Accuracy, confusion matrix, precision and recall.

    Args:
        labels: true classes, any shape with m integer elements (the course's (1, m) works).
        predicted: predicted classes, m integers.
        n_classes: C.
    """
    labels = np.asarray(labels).reshape(-1)
    predicted = np.asarray(predicted).reshape(-1)
    if labels.shape != predicted.shape:
        raise ValueError(f"{labels.size} labels but {predicted.size} predictions")
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    correct = np.diag(confusion).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = correct / confusion.sum(axis=0)
        recall = correct / confusion.sum(axis=1)
    return Scores(float(correct.sum() / max(labels.size, 1)), confusion, precision, recall)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: `successes` of `n` trials.

    For z, the normal quantile of (1 + confidence) / 2, and p = successes / n, the interval is

        (p + z^2 / 2n  -/+  z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n).

    Unlike p -/+ z sqrt(p (1 - p) / n), it stays inside [0, 1] and keeps close to its nominal
    coverage when p is near 0 or 1 and n is small (L. D. Brown, T. T. Cai, A. DasGupta, "Interval
    Estimation for a Binomial Proportion", Statistical Science 16(2), 2001).

    Returns:
        (low, high), fractions in [0, 1].
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes} of {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a fraction between 0 and 1, got {confidence}")
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = successes / n
    centre = p + z**2 / (2 * n)
    spread = z * (p * (1 - p) / n + z**2 / (4 * n**2)) ** 0.5
    denominator = 1 + z**2 / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


class PairedComparison(NamedTuple):
    """Two classifiers on the same images: where exactly one of them is right, and the exact
    McNemar test of whether each is as likely as the other to be the one."""

    only_first: int  # images the first classifier gets right and the second wrong
    only_second: int  # images the second gets right and the first wrong
    p_value: float  # two-sided


def mcnemar_exact(first_right: np.ndarray, second_right: np.ndarray) -> PairedComparison:
    """The exact McNemar test of two classifiers' answers on the same images.

    Images both get right or both get wrong say nothing about which is better; of the
    n = b + c images where exactly one is right, the first is the one b times. If both were
    equally accurate, b would be Binomial(n, 1/2), and the two-sided p-value is
    min(1, 2 P(B <= min(b, c))) (Q. McNemar, Psychometrika 12, 1947; for two classifiers on one
    test set, T. G. Dietterich, Neural Computation 10(7), 1998).

    Args:
        first_right, second_right: booleans of shape (m,), whether each classifier is right on
            image i.

    Returns:
        PairedComparison(b, c, p_value); the p-value is 1 where n = 0.
    """
    first_right, second_right = np.asarray(first_right, bool), np.asarray(second_right, bool)
    if first_right.shape != second_right.shape or first_right.ndim != 1:
        raise ValueError(
            f"need two answers per image, shapes (m,) and (m,); got {first_right.shape} and "
            f"{second_right.shape}"
        )
    b = int(np.sum(first_right & ~second_right))
    c = int(np.sum(~first_right & second_right))
    return PairedComparison(b, c, _two_sided_binomial_p(b, c))


def _two_sided_binomial_p(b: int, c: int) -> float:
    """min(1, 2 P(B <= min(b, c))) for B ~ Binomial(b + c, 1/2); 1 where b + c = 0."""
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


class SignTest(NamedTuple):
    """Paired differences: how many are positive, how many negative, and the exact sign test."""

    positive: int
    negative: int  # ties (differences of 0) are in neither
    p_value: float  # two-sided


def sign_test(differences: np.ndarray) -> SignTest:
    """The exact sign test of paired differences (one per image): if neither member of a pair
    tended to be larger, each non-zero difference would be positive with probability 1/2, and
    the two-sided p-value is min(1, 2 P(B <= min(positive, negative))), B ~ Binomial(positive +
    negative, 1/2). McNemar's exact test is this test on the images where one classifier is right.

    Args:
        differences: (m,) numbers, e.g. the probability lost by one change minus another's.
    """
    differences = np.asarray(differences, dtype=np.float64)
    if differences.ndim != 1:
        raise ValueError(f"need one difference per pair, shape (m,); got {differences.shape}")
    positive, negative = int(np.sum(differences > 0)), int(np.sum(differences < 0))
    return SignTest(positive, negative, _two_sided_binomial_p(positive, negative))


class GroupedInterval(NamedTuple):
    """A bootstrap interval of an accuracy that resamples whole groups (signers), not images."""

    low: float
    high: float
    groups: int


def group_bootstrap_interval(
    right: np.ndarray,
    groups: np.ndarray,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> GroupedInterval:
    """A percentile bootstrap interval of the accuracy, resampling groups with replacement.

    Images of one signer are not independent draws: a network that misreads one person's hand
    tends to misread several of their photos. Each resample draws as many signers as there are,
    with replacement, and pools all their images; the interval holds the middle `confidence` of
    the resampled accuracies (B. Efron, R. Tibshirani, "An Introduction to the Bootstrap", 1993,
    for resampling the units that were sampled). A bootstrap resamples only the mistakes it saw:
    with very few, the interval is too narrow, so report it beside Wilson's.

    Args:
        right: (m,) booleans, whether each image was read correctly.
        groups: (m,) the group (signer) of each image.

    Returns:
        GroupedInterval(low, high, number of groups).
    """
    right, groups = np.asarray(right, bool), np.asarray(groups)
    if right.shape != groups.shape or right.ndim != 1 or right.size == 0:
        raise ValueError(
            f"need one answer and one group per image, shapes (m,) and (m,); got {right.shape} "
            f"and {groups.shape}"
        )
    names, index = np.unique(groups, return_inverse=True)
    correct = np.bincount(index, weights=right).astype(np.float64)  # (g,)
    counts = np.bincount(index).astype(np.float64)
    draws = np.random.default_rng(seed).integers(0, len(names), (resamples, len(names)))
    accuracies = correct[draws].sum(axis=1) / counts[draws].sum(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(accuracies, [tail, 1 - tail])
    return GroupedInterval(float(low), float(high), len(names))


def augmentation_robustness_images(images: np.ndarray, seed: int = 2026) -> np.ndarray:
    """Each image transformed by the training augmentation's own code, with fixed parameters.

    Every image is rotated by 20-45 degrees either way, shrunk to 0.6-0.8 of its size, moved off
    centre, put on another background and given a colour cast (`augment.robustness_parameters`,
    drawn with ``seed``). These are the transformations the network was trained on, at or inside
    the training ranges (but for scales 0.60-0.65, just below the training's 0.65), so accuracy on
    these images measures robustness to them, not to photos taken elsewhere.

    Args:
        images: uint8 (m, n_H, n_W, 3).

    Returns:
        uint8 (m, n_H, n_W, 3).
    """
    return _transformed(images, robustness_parameters(len(images), seed=seed))


def out_of_range_images(images: np.ndarray, probe: str, seed: int = 2026) -> np.ndarray:
    """Each image changed beyond the training augmentation's ranges, one kind of change at a time.

    `probe` is "rotation" (50-70 degrees either way), "small" (shrunk to 0.45-0.6) or "crop"
    (enlarged 1.25-1.45 times and moved, cutting off the edges): see
    `augment.OUT_OF_RANGE_PROBES`. Accuracy on these images shows how the network copes a little
    past what it was trained on.

    Args:
        images: uint8 (m, n_H, n_W, 3).

    Returns:
        uint8 (m, n_H, n_W, 3).
    """
    return _transformed(images, out_of_range_parameters(len(images), probe, seed=seed))


def _transformed(images: np.ndarray, params: dict) -> np.ndarray:
    transformed = np.asarray(transform_images(scale_images(images), params))
    return np.round(transformed * 255.0).clip(0, 255).astype(np.uint8)


def mirror_images(images: np.ndarray) -> np.ndarray:
    """The left-right mirror image of each image: a right hand becomes a left hand.

    Args:
        images: (m, n_H, n_W, n_C).

    Returns:
        (m, n_H, n_W, n_C), same dtype; column j of each image is column n_W - 1 - j of the input.
    """
    return np.ascontiguousarray(np.asarray(images)[:, :, ::-1])


def predict_with_mirror(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (m, C) averaged over each uint8 image (m, 64, 64, 3) and its mirror."""
    return (
        predict_probabilities(model, images, batch_size)
        + predict_probabilities(model, mirror_images(images), batch_size)
    ) / 2


def _fraction(successes: int, n: int) -> str:
    low, high = wilson_interval(successes, n)
    return (
        f"{successes:>3} of {n:<3} {successes / n:6.1%}  (95% Wilson interval {low:.1%}-{high:.1%})"
    )


def photo_report(model, photos: PhotoSet, n_classes: int = N_CLASSES) -> str:
    """What the model reads on labelled photos, as text.

    Args:
        model: maps (m, 64, 64, 3) images in [0, 1] to (m, n_classes) probabilities.
        photos: `photo_sets.PhotoSet` (images uint8 (m, 64, 64, 3), labels (m,)).

    Returns:
        The accuracy of one pass, on the mirror images and averaged with them (each with its
        Wilson interval), each digit's accuracy and most frequent mistake, and the confusion matrix.
    """
    labels = photos.labels
    single = predict_probabilities(model, photos.images)
    mirrored = predict_probabilities(model, mirror_images(photos.images))
    result = scores(labels, single.argmax(axis=1), n_classes)
    m = len(labels)

    def right(probabilities) -> int:
        return int((probabilities.argmax(axis=1) == labels).sum())

    lines = [
        f"{m} photos",
        f"one pass:                          {_fraction(right(single), m)}",
        f"their mirror images (other hand):  {_fraction(right(mirrored), m)}",
        f"averaged with their mirror images: {_fraction(right((single + mirrored) / 2), m)}",
        "",
        "digit  right   accuracy  95% Wilson interval  most often misread as",
    ]
    for digit in range(n_classes):
        row = result.confusion[digit]
        total = int(row.sum())
        if total == 0:
            lines.append(f"{digit:>5}  no photos")
            continue
        correct = int(row[digit])
        low, high = wilson_interval(correct, total)
        errors = row.copy()
        errors[digit] = 0
        mistake = f"{int(errors.argmax())} ({int(errors.max())})" if errors.max() else "-"
        lines.append(
            f"{digit:>5}  {correct:>3}/{total:<3} {correct / total:8.1%}  "
            f"{low:6.1%}-{high:6.1%}       {mistake}"
        )
    lines += ["", "confusion matrix (rows: true digit, columns: digit read)"]
    lines.append("      " + "".join(f"{d:>5}" for d in range(n_classes)))
    for digit in range(n_classes):
        lines.append(f"{digit:>5} " + "".join(f"{n:>5}" for n in result.confusion[digit]))
    return "\n".join(lines)


def main(argv=None) -> int:
    """`python -m course_utils.evaluate PHOTOS [--weights FILE]`: print `photo_report`."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.evaluate",
        description="Measure the course's ResNet-50 on labelled photos taken elsewhere.",
    )
    parser.add_argument(
        "photos",
        type=Path,
        help="a folder with one subfolder per digit (0/ ... 5/) of photos, or a SIGNS .h5 file",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="a .weights.h5 file of ResNet50(input_shape=(64, 64, 3), classes=6) "
        "(default: the shipped weights)",
    )
    args = parser.parse_args(argv)
    try:
        photos = load_labelled_photos(args.photos)
    except PhotoSetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        model = load_shipped_weights(ResNet50(), args.weights)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"weights: {args.weights or 'the shipped weights'}")
    print(photo_report(model, photos))
    return 0


if __name__ == "__main__":
    sys.exit(main())
