"""The occlusion test (course_utils.occlusion) on hand-made images and a network whose answer
depends on one quadrant only, so the right cells to cover are known."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils.occlusion import background_colours, cover_cells, occlusion_test, ranked_cells


def test_cells_are_ranked_hottest_first_in_row_major_order():
    maps = np.array([[[0.1, 0.9], [0.5, 0.0]], [[2.0, 2.0], [1.0, 3.0]]])
    np.testing.assert_array_equal(ranked_cells(maps), [[1, 2, 0, 3], [3, 0, 1, 2]])


def test_the_background_colour_is_the_median_of_the_border():
    images = np.full((1, 8, 8, 3), 100, np.uint8)
    images[0, 2:6, 2:6] = 250  # the "hand", inside
    images[0, 0, 0] = 0  # one odd border pixel does not move the median
    np.testing.assert_array_equal(background_colours(images), [[100, 100, 100]])


def test_cover_cells_paints_exactly_the_squares_of_the_chosen_cells():
    images = np.arange(2 * 8 * 8 * 3, dtype=np.int64).reshape(2, 8, 8, 3).astype(np.uint8)
    covered = cover_cells(images, np.array([[1], [2]]), grid=(2, 2))
    colours = background_colours(images)
    np.testing.assert_array_equal(covered[0, :4, 4:], np.broadcast_to(colours[0], (4, 4, 3)))
    np.testing.assert_array_equal(covered[1, 4:, :4], np.broadcast_to(colours[1], (4, 4, 3)))
    changed = covered != images
    assert not changed[0, 4:].any() and not changed[0, :, :4].any()
    assert not changed[1, :4].any() and not changed[1, :, 4:].any()
    assert (images == np.arange(2 * 8 * 8 * 3).reshape(2, 8, 8, 3).astype(np.uint8)).all()


def test_cover_cells_refuses_a_grid_that_does_not_divide_the_image():
    with pytest.raises(ValueError, match="does not divide"):
        cover_cells(np.zeros((1, 10, 10, 3), np.uint8), np.array([[0]]), grid=(4, 4))


def _top_left_reader() -> keras.Model:
    """Two classes from the mean brightness of the top-left quadrant of a 8 x 8 image only."""
    inputs = keras.Input((8, 8, 3))
    quadrant = keras.layers.Cropping2D(((0, 4), (0, 4)))(inputs)
    mean = keras.layers.GlobalAveragePooling2D()(quadrant)
    brightness = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(mean)
    logits = keras.layers.Dense(
        2,
        kernel_initializer=keras.initializers.Constant([[20.0, -20.0]]),
        bias_initializer=keras.initializers.Constant([-10.0, 10.0]),
    )(brightness)
    return keras.Model(inputs, keras.layers.Softmax()(logits))


def test_covering_the_cell_the_network_reads_costs_the_answer_and_other_cells_cost_nothing():
    images = np.zeros((3, 8, 8, 3), np.uint8)
    images[:, :4, :4] = 255  # bright top-left: class 0 (3 x 20 - 10 > 0)
    maps = np.zeros((3, 2, 2))
    maps[:, 0, 0] = 1.0  # a map that points at the quadrant read
    result = occlusion_test(_top_left_reader(), images, maps, n_cells=1, seed=0)
    np.testing.assert_array_equal(result.answer, [0, 0, 0])
    assert (result.uncovered > 0.99).all()
    assert (result.covered["hottest"] < 0.01).all()  # painted with the dark background
    assert not result.answer_kept["hottest"].any()
    np.testing.assert_allclose(result.covered["coldest"], result.uncovered)
    assert result.answer_kept["coldest"].all()
    assert set(result.covered) == {"hottest", "coldest", "random"}
