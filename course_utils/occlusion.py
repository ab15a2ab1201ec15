"""Does a network need what its Grad-CAM map points to? An occlusion test.

M. D. Zeiler and R. Fergus ("Visualizing and Understanding Convolutional Networks", ECCV 2014)
covered parts of an image and watched the class probability. Here the parts are the cells of a
Grad-CAM map at the feature maps' resolution (h x w cells, each over an (H/h) x (W/w) square of the
image): for every image, the `n_cells` hottest cells are covered, then as many of the coldest, then
as many chosen at random, each time with the image's own background colour (the median of its
border pixels), and the probability of the class the network gave the uncovered image is measured
again. If the network needs what the map points to, covering the hot cells costs more than
covering the cold ones, image after image.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from course_utils.evaluate import predict_probabilities


class Occlusion(NamedTuple):
    """The probability of each image's answer, uncovered and with each kind of cells covered."""

    answer: np.ndarray  # (m,) the class the network gave the uncovered image
    uncovered: np.ndarray  # (m,) its probability
    covered: dict[str, np.ndarray]  # {"hottest" | "coldest" | "random": (m,) its probability}
    answer_kept: dict[str, np.ndarray]  # {same keys: (m,) bool, the covered image read the same}


def ranked_cells(cell_maps: np.ndarray) -> np.ndarray:
    """The cells of each map, hottest first.

    Args:
        cell_maps: (m, h, w) Grad-CAM maps at the feature maps' resolution.

    Returns:
        (m, h * w) int: flat cell indices (row * w + column), by decreasing value; ties keep the
        cells' order.
    """
    flat = np.asarray(cell_maps).reshape(len(cell_maps), -1)
    return np.argsort(-flat, axis=1, kind="stable")


def background_colours(images: np.ndarray) -> np.ndarray:
    """The median colour of each image's one-pixel border, where the background usually is.

    Args:
        images: uint8 (m, H, W, 3).

    Returns:
        uint8 (m, 3).
    """
    images = np.asarray(images)
    border = np.concatenate(
        [images[:, 0], images[:, -1], images[:, 1:-1, 0], images[:, 1:-1, -1]], axis=1
    )  # (m, 2W + 2(H - 2), 3)
    return np.median(border, axis=1).round().astype(np.uint8)


def cover_cells(images: np.ndarray, cells: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Copies of `images` with the squares under some cells of a grid painted in each image's
    background colour.

    Args:
        images: uint8 (m, H, W, 3); H and W multiples of the grid's h and w.
        cells: (m, k) int flat cell indices (row * w + column) to cover in each image.
        grid: (h, w), the map's resolution.

    Returns:
        uint8 (m, H, W, 3).
    """
    images = np.asarray(images)
    h, w = grid
    height, width = images.shape[1:3]
    if height % h or width % w:
        raise ValueError(f"a {h} x {w} grid does not divide {height} x {width} images evenly")
    size_y, size_x = height // h, width // w
    covered = images.copy()
    for image, colour, image_cells in zip(covered, background_colours(images), cells, strict=True):
        for cell in image_cells:
            row, column = divmod(int(cell), w)
            top, left = row * size_y, column * size_x
            image[top : top + size_y, left : left + size_x] = colour
    return covered


def occlusion_test(model, images: np.ndarray, cell_maps: np.ndarray, n_cells: int, seed: int = 0):
    """Cover the hottest, the coldest and random cells of each image's map; measure the answer.

    Args:
        model: a Keras classifier of uint8 images scaled by `predict_probabilities`.
        images: uint8 (m, H, W, 3).
        cell_maps: (m, h, w) the images' Grad-CAM maps before upsampling.
        n_cells: how many cells to cover in each image.
        seed: the random cells' seed.

    Returns:
        Occlusion.
    """
    probabilities = predict_probabilities(model, images)
    answer = probabilities.argmax(axis=1)
    rows = np.arange(len(images))
    ranking = ranked_cells(cell_maps)
    rng = np.random.default_rng(seed)
    choices = {
        "hottest": ranking[:, :n_cells],
        "coldest": ranking[:, ::-1][:, :n_cells],
        "random": np.stack([rng.permutation(ranking.shape[1])[:n_cells] for _ in images]),
    }
    covered, kept = {}, {}
    for kind, cells in choices.items():
        after = predict_probabilities(model, cover_cells(images, cells, cell_maps.shape[1:3]))
        covered[kind] = after[rows, answer]
        kept[kind] = after.argmax(axis=1) == answer
    return Occlusion(answer, probabilities[rows, answer], covered, kept)
