"""Evaluating a trained ResNet-50: predictions, confusion matrix, per-class scores, confidence
intervals, transformed versions of a split (the training augmentation's own transformations, the
mirror image) and predicting a photo from a file.

Every function takes images as the course stores them, uint8 (m, 64, 64, 3), and applies the
course's preprocessing itself (`preprocess`: X / 255.0), so that no caller can forget it.
"""

from __future__ import annotations

import io
from pathlib import Path
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from course_utils.training.augment import robustness_parameters, transform_images

IMAGE_SIZE = 64


class Scores(NamedTuple):
    """Accuracy and per-class scores of a set of predictions."""

    accuracy: float
    confusion: np.ndarray  # (C, C) int: row = true class, column = predicted class
    precision: np.ndarray  # (C,) float; NaN for a class never predicted
    recall: np.ndarray  # (C,) float; NaN for a class absent from the labels


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 (m, n_H, n_W, 3) in 0..255 -> float32 (m, n_H, n_W, 3) in [0, 1], as in training."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images (0-255), got {images.dtype}")
    return images.astype("float32") / 255.0


# Up to this many batches the model is called batch by batch; more go through `model.predict`,
# whose compiled graph costs a trace that pays off only over many batches.
DIRECT_CALL_BATCHES = 4


def predict_probabilities(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (m, C) of uint8 images (m, 64, 64, 3), in inference mode."""
    x = preprocess(images)
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
    params = robustness_parameters(len(images), seed=seed)
    transformed = np.asarray(transform_images(preprocess(images), params))
    return np.round(transformed * 255.0).clip(0, 255).astype(np.uint8)


# The former name, kept until `course_utils.training.model_card` imports the new one.


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


def load_image(source: str | Path | bytes, size: int = IMAGE_SIZE) -> np.ndarray:
    """A photo from a file path or its bytes, prepared as the course's images were.

    The photo is turned upright from its EXIF orientation, converted to RGB, cropped to a centred
    square and resized to size x size with LANCZOS antialiasing.

    Returns:
        uint8 (size, size, 3).

    Raises:
        ValueError: the file is missing or is not an image Pillow can read; the message names it.
    """
    name = "the uploaded bytes" if isinstance(source, bytes) else str(source)
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
        with stream, Image.open(stream) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
            return np.asarray(image, dtype=np.uint8)
    except FileNotFoundError as error:
        raise ValueError(f"{name} does not exist. Fix: give the path of a photo.") from error
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(
            f"{name} is not an image that can be read ({error}). Fix: use a JPEG or PNG photo."
        ) from error
