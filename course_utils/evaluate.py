"""Evaluating a trained ResNet-50: predictions, confusion matrix, per-class scores, the stress test,
and predicting a photo from a file.

Every function takes images as the course stores them, uint8 (m, 64, 64, 3), and applies the
course's preprocessing itself (`preprocess`: X / 255.0), so that no caller can forget it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from course_utils.training.augment import stress_test_parameters, transform_images

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


def stress_test_images(images: np.ndarray, seed: int = 2026) -> np.ndarray:
    """The stress-test version of a split: each image rotated by 20-45 degrees, shrunk, moved off
    centre, put on another background and given a colour cast (fixed by ``seed``).

    Args:
        images: uint8 (m, n_H, n_W, 3).

    Returns:
        uint8 (m, n_H, n_W, 3).
    """
    params = stress_test_parameters(len(images), seed=seed)
    transformed = np.asarray(transform_images(preprocess(images), params))
    return np.round(transformed * 255.0).clip(0, 255).astype(np.uint8)


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
