"""The handshape chart of chapters 01 and 07: one photo of each digit, in order, and its mirror."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_utils.handshapes import HANDSHAPES, handshape_examples, plot_handshapes


def _labelled_images():
    labels = np.array([3, 0, 1, 5, 2, 4, 0, 1, 2, 3, 4, 5])
    images = np.zeros((12, 64, 64, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(12)  # each image tells where it came from
    return images, labels


def test_the_examples_are_one_image_of_each_digit_in_order():
    images, labels = _labelled_images()
    first = handshape_examples(images, labels)
    assert first.shape == (6, 64, 64, 3)
    assert first[:, 0, 0, 0].tolist() == [1, 2, 4, 0, 5, 3]
    second = handshape_examples(images, labels.reshape(1, -1), signer=1)
    assert second[:, 0, 0, 0].tolist() == [6, 7, 8, 9, 10, 11]


def test_the_chart_shows_each_photo_over_its_mirror_image_with_its_handshape():
    images, labels = _labelled_images()
    images[:, :, :32] = 255  # bright on the left
    fig = plot_handshapes(handshape_examples(images, labels))
    axes = np.array(fig.axes).reshape(2, 6)
    for digit in range(6):
        top, bottom = (np.asarray(ax.images[0].get_array()) for ax in axes[:, digit])
        np.testing.assert_array_equal(bottom, top[:, ::-1])
        assert axes[0, digit].get_title().startswith(f"{digit}\n")
        assert HANDSHAPES[digit].split()[0] in axes[0, digit].get_title()
    assert [axes[row, 0].get_ylabel() for row in (0, 1)] == ["right hand", "left hand"]


def test_a_missing_digit_is_named():
    images, labels = _labelled_images()
    with pytest.raises(ValueError, match="0 image\\(s\\) of digit 4"):
        handshape_examples(images[labels != 4], labels[labels != 4])
    with pytest.raises(ValueError, match="2 image\\(s\\) of digit 0, so no example number 2"):
        handshape_examples(images, labels, signer=2)
