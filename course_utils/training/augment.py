"""Image augmentation meant to carry the Sign Language Digits photos towards photos from elsewhere.

The course photos are all upright, centred hands on a light grey background under one white
balance. Photos from other sources differ in exactly those ways, so the augmentation changes them:

- geometry: rotation (up to +-45 degrees), scale (hands 0.65 to 1.1 times as large) and shifts;
- background: the grey background is found from the image border and replaced by another colour
  with a gentle gradient;
- colour: white balance (per-channel gains), brightness and contrast;
- hand: a left-right mirror image (with probability `mirror_probability`) turns a right hand into
  a left one. The course photos show mostly right hands, photos from elsewhere either hand.

One pure function, `transform_images`, applies given parameters; `SignAugmentation` draws random
parameters for training and `robustness_parameters` draws fixed ones for the robustness check of
chapter 6, so training and evaluation transform images with the same code. That check therefore
measures robustness to these transformations, not to photos taken elsewhere. Only `keras.ops` is
used, so the code runs on every Keras backend (TensorFlow on CPUs here, JAX on a GPU machine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

BACKGROUND_THRESHOLD = 0.12  # colour distance (0-1 scale) beyond which a pixel counts as hand
BACKGROUND_SOFTNESS = 0.03  # width of the soft edge of the hand mask


@dataclass(frozen=True)
class AugmentationRanges:
    """Bounds of the random augmentation parameters (drawn uniformly)."""

    max_rotation_degrees: float = 45.0
    scale: tuple[float, float] = (0.65, 1.1)
    max_shift_fraction: float = 0.15
    gain: tuple[float, float] = (0.75, 1.3)
    brightness: tuple[float, float] = (-0.15, 0.15)
    contrast: tuple[float, float] = (0.7, 1.3)
    background_probability: float = 0.6
    mirror_probability: float = 0.0


def transform_images(images, params: dict):
    """Apply background, geometry and colour changes to a batch of images.

    Args:
        images: float tensor (m, n_H, n_W, 3) in [0, 1].
        params: dict of float tensors, each with leading dimension m:
            angle (m,) radians, scale (m,), shift (m, 2) fractions of the image size (x, y),
            background (m, 3) colour in [0, 1], background_gradient (m, 3), replace_background (m,)
            0 or 1, gain (m, 3), brightness (m,), contrast (m,), mirror (m,) 0 or 1 (1: the
            image's left-right mirror image).

    Returns:
        Float tensor (m, n_H, n_W, 3) in [0, 1].
    """
    images = ops.convert_to_tensor(images, dtype="float32")
    images = _mirror(images, params["mirror"])
    images = _replace_background(images, params)
    images = _affine(images, params["angle"], params["scale"], params["shift"])
    return _colour(images, params["gain"], params["brightness"], params["contrast"])


def random_parameters(m: int, ranges: AugmentationRanges, seed) -> dict:
    """Draw augmentation parameters for m images.

    Args:
        m: number of images.
        ranges: bounds of the parameters.
        seed: a keras.random.SeedGenerator (training) or an int.

    Returns:
        dict of float tensors as `transform_images` takes them.
    """

    def uniform(shape, low, high):
        return keras.random.uniform(shape, minval=low, maxval=high, seed=seed)

    max_angle = math.radians(ranges.max_rotation_degrees)
    shift = ranges.max_shift_fraction
    return {
        "angle": uniform((m,), -max_angle, max_angle),
        "scale": uniform((m,), *ranges.scale),
        "shift": uniform((m, 2), -shift, shift),
        "background": uniform((m, 3), 0.0, 1.0),
        "background_gradient": uniform((m, 3), -0.3, 0.3),
        "replace_background": ops.cast(
            uniform((m,), 0.0, 1.0) < ranges.background_probability, "float32"
        ),
        "gain": uniform((m, 3), *ranges.gain),
        "brightness": uniform((m,), *ranges.brightness),
        "contrast": uniform((m,), *ranges.contrast),
        "mirror": ops.cast(uniform((m,), 0.0, 1.0) < ranges.mirror_probability, "float32"),
    }


def robustness_parameters(m: int, seed: int = 2026) -> dict:
    """Fixed parameters for the augmentation-robustness version of a split.

    Every image is rotated by 20-45 degrees (either way), shrunk to 0.6-0.8 of its size, moved
    off-centre, put on another background and given a colour cast: the training augmentation's own
    kinds of change, within its ranges except the scale, whose low end (0.6) lies slightly below
    training's (0.65).

    Args:
        m: number of images.
        seed: seed of the numpy generator; the same seed gives the same images.

    Returns:
        dict of float32 numpy arrays as `transform_images` takes them.
    """
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], size=m)
    params = {
        "angle": sign * np.radians(rng.uniform(20, 45, m)),
        "scale": rng.uniform(0.6, 0.8, m),
        "shift": rng.choice([-1.0, 1.0], size=(m, 2)) * rng.uniform(0.08, 0.15, (m, 2)),
        "background": rng.uniform(0.0, 1.0, (m, 3)),
        "background_gradient": rng.uniform(-0.3, 0.3, (m, 3)),
        "replace_background": np.ones(m),
        "gain": rng.uniform(0.75, 1.3, (m, 3)),
        "brightness": rng.uniform(-0.12, 0.12, m),
        "contrast": rng.uniform(0.75, 1.25, m),
        "mirror": np.zeros(m),
    }
    return {k: v.astype("float32") for k, v in params.items()}


# Changes beyond the training ranges (rotation up to 45 degrees, scale 0.65-1.1), one at a time.
OUT_OF_RANGE_PROBES = {
    "rotation": "rotated by 50-70 degrees either way (training: up to 45)",
    "small": "shrunk to 0.45-0.6 of their size (training: 0.65-1.1)",
    "crop": "enlarged 1.25-1.45 times and moved by up to 10%, cutting off their edges "
    "(training: up to 1.1)",
}


def out_of_range_parameters(m: int, probe: str, seed: int = 2026) -> dict:
    """Fixed parameters of one out-of-range probe (`OUT_OF_RANGE_PROBES`): a geometric change
    beyond the training ranges, and no other change (same background, colour and hand).

    Args:
        m: number of images.
        probe: "rotation", "small" or "crop".
        seed: seed of the numpy generator; the same seed gives the same images.

    Returns:
        dict of float32 numpy arrays as `transform_images` takes them.
    """
    if probe not in OUT_OF_RANGE_PROBES:
        raise ValueError(f"unknown probe {probe!r}; choose one of {sorted(OUT_OF_RANGE_PROBES)}")
    rng = np.random.default_rng(seed)
    angle, scale, shift = np.zeros(m), np.ones(m), np.zeros((m, 2))
    if probe == "rotation":
        angle = rng.choice([-1.0, 1.0], size=m) * np.radians(rng.uniform(50, 70, m))
    elif probe == "small":
        scale = rng.uniform(0.45, 0.6, m)
    else:
        scale = rng.uniform(1.25, 1.45, m)
        shift = rng.uniform(-0.1, 0.1, (m, 2))
    params = {
        "angle": angle,
        "scale": scale,
        "shift": shift,
        "background": np.zeros((m, 3)),
        "background_gradient": np.zeros((m, 3)),
        "replace_background": np.zeros(m),
        "gain": np.ones((m, 3)),
        "brightness": np.zeros(m),
        "contrast": np.ones(m),
        "mirror": np.zeros(m),
    }
    return {k: v.astype("float32") for k, v in params.items()}


class SignAugmentation(keras.layers.Layer):
    """Random augmentation in training, identity in inference. Input and output (m, n_H, n_W, 3)."""

    def __init__(self, ranges: AugmentationRanges | None = None, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.ranges = ranges or AugmentationRanges()
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        m = ops.shape(images)[0]
        return transform_images(images, random_parameters(m, self.ranges, self.seed_generator))

    def compute_output_shape(self, input_shape):
        return input_shape


def background_mask(images):
    """Soft mask of the hand: 1 on the hand, 0 on the background.

    The background colour of each image is the median of its border pixels; a pixel belongs to
    the hand when its colour is further than BACKGROUND_THRESHOLD from it.

    Args:
        images: float tensor (m, n_H, n_W, 3) in [0, 1].

    Returns:
        Float tensor (m, n_H, n_W, 1) in [0, 1].
    """
    border = ops.concatenate(
        [images[:, 0, :, :], images[:, -1, :, :], images[:, :, 0, :], images[:, :, -1, :]], axis=1
    )
    border_colour = _median(border, axis=1)[:, None, None, :]
    distance = ops.sqrt(ops.mean(ops.square(images - border_colour), axis=-1, keepdims=True))
    return ops.sigmoid((distance - BACKGROUND_THRESHOLD) / BACKGROUND_SOFTNESS)


def _median(x, axis):
    n = ops.shape(x)[axis]
    return ops.take(ops.sort(x, axis=axis), n // 2, axis=axis)


def _mirror(images, mirror):
    choose = mirror[:, None, None, None]
    return choose * ops.flip(images, axis=2) + (1.0 - choose) * images


def _replace_background(images, params):
    n_H = images.shape[1]
    ramp = ops.reshape(ops.linspace(-0.5, 0.5, n_H), (1, n_H, 1, 1))
    background = (
        params["background"][:, None, None, :]
        + params["background_gradient"][:, None, None, :] * ramp
    )
    background = ops.broadcast_to(ops.clip(background, 0.0, 1.0), ops.shape(images))
    keep = background_mask(images)
    replaced = keep * images + (1.0 - keep) * background
    choose = params["replace_background"][:, None, None, None]
    return choose * replaced + (1.0 - choose) * images


def _affine(images, angle, scale, shift):
    """Rotate by `angle`, scale by `scale` about the centre, then shift by `shift` * size."""
    n_H, n_W = images.shape[1], images.shape[2]
    cx, cy = (n_W - 1) / 2.0, (n_H - 1) / 2.0
    cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
    tx, ty = cx + shift[:, 0] * n_W, cy + shift[:, 1] * n_H
    # keras maps each output pixel (x, y) to the input pixel (a0 x + a1 y + a2, b0 x + b1 y + b2).
    a0, a1, b0, b1 = cos, -sin, sin, cos
    a2 = cx - a0 * tx - a1 * ty
    b2 = cy - b0 * tx - b1 * ty
    zeros = ops.zeros_like(angle)
    transform = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return ops.image.affine_transform(
        images,
        transform,
        interpolation="bilinear",
        fill_mode="nearest",
        data_format="channels_last",
    )


def _colour(images, gain, brightness, contrast):
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    images = (images - mean) * contrast[:, None, None, None] + mean
    images = images * gain[:, None, None, :] + brightness[:, None, None, None]
    return ops.clip(images, 0.0, 1.0)
