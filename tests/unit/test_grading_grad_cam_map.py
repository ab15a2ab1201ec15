"""check_grad_cam_map (chapter 7) accepts Grad-CAM's formula written in other words and refuses
each way of getting it wrong, naming the mistake; the course's `grad_cam_map` gives the maps known
by hand and, on a network with a global average before its Dense layer, the class activation map."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.grad_cam import grad_cam_map
from course_utils.grading import check_grad_cam_map
from course_utils.grading.grad_cam_map import hand_case, network_case


def honest(features, gradients):
    m, h, w, k = features.shape
    maps = np.zeros((m, h, w))
    for image in range(m):
        for channel in range(k):
            alpha = gradients[image, :, :, channel].sum() / (h * w)
            maps[image] += alpha * features[image, :, :, channel]
    return np.where(maps > 0, maps, 0)


def no_relu(features, gradients):
    return (gradients.mean(axis=(1, 2), keepdims=True) * features).sum(axis=-1)


def summed_gradients(features, gradients):
    return np.maximum((gradients.sum(axis=(1, 2), keepdims=True) * features).sum(axis=-1), 0)


def cell_by_cell(features, gradients):
    return np.maximum((gradients * features).sum(axis=-1), 0)


def relu_on_features(features, gradients):
    return (gradients.mean(axis=(1, 2), keepdims=True) * np.maximum(features, 0)).sum(axis=-1)


def scaled(features, gradients):
    maps = np.maximum((gradients.mean(axis=(1, 2), keepdims=True) * features).sum(axis=-1), 0)
    return maps / maps.max(axis=(1, 2), keepdims=True)


def channels_kept(features, gradients):
    return np.maximum(gradients.mean(axis=(1, 2), keepdims=True) * features, 0)


def mean_over_the_batch(features, gradients):
    return np.maximum((gradients.mean(axis=0, keepdims=True) * features).sum(axis=-1), 0)


def mean_over_rows_only(features, gradients):
    return np.maximum((gradients.mean(axis=1, keepdims=True) * features).sum(axis=-1), 0)


def verdict(function, capsys) -> tuple[bool, str]:
    passed = check_grad_cam_map(function)
    return passed, capsys.readouterr().out


def test_the_course_s_maps_are_the_ones_known_by_hand():
    np.testing.assert_allclose(grad_cam_map(*hand_case()), [[[0, 2, 2], [2, 7, 6]]])


def test_on_a_global_average_network_grad_cam_is_the_class_activation_map():
    features, gradients, cam = network_case()
    np.testing.assert_allclose(grad_cam_map(features, gradients), cam, rtol=1e-4, atol=1e-6)


def test_the_formula_written_with_loops_passes(capsys):
    assert verdict(honest, capsys) == (True, "All tests passed.\n")


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (no_relu, "apply a ReLU"),
        (summed_gradients, "the mean of channel k's gradients over the h x w cells, not their sum"),
        (cell_by_cell, "not each cell by its own gradient"),
        (relu_on_features, "to the weighted sum over the channels, not to the feature maps"),
        (scaled, "Return the maps before any scaling"),
        (channels_kept, "returned shape (1, 2, 3, 2); the maps have shape (1, 2, 3)"),
        # With one image, the batch's mean is each cell's own gradient.
        (mean_over_the_batch, "not each cell by its own gradient"),
        (mean_over_rows_only, "Check the formula: alpha_k = mean over i, j"),
    ],
)
def test_a_wrong_formula_fails_with_its_hint(wrong, hint, capsys):
    passed, printed = verdict(wrong, capsys)
    assert not passed
    assert printed.startswith("Test failed: ")
    assert hint in printed


def test_the_course_s_reference_is_refused(capsys):
    passed, printed = verdict(grad_cam_map, capsys)
    assert not passed
    assert "course's reference implementation" in printed
