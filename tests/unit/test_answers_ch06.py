"""Chapter 6's answer keys are right: each is worked out here independently of the key."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest

from course_tools.notebooks import BOOK_DIR, cell_tags, read_notebook
from course_utils.answers.ch06 import ANSWERS, MIRROR_AVERAGED_CORRECT, TEST_IMAGES
from course_utils.evaluate import mirror_images, predict_with_mirror
from course_utils.questions import answer_is_right, check_answer


def test_the_lower_end_for_1190_of_1200_is_the_wilson_formula_worked_by_hand():
    n, p, z = 1200, 1190 / 1200, 1.959964
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert ANSWERS["6.1"].value() == pytest.approx(100 * (centre - spread) / (1 + z**2 / n), 1e-5)
    assert ANSWERS["6.1"].value() == pytest.approx(98.47, abs=0.01)


def test_the_largest_target_with_smoothing_0_2_over_ten_classes_is_0_82():
    assert ANSWERS["6.2"].value() == pytest.approx(0.8 + 0.2 / 10)


def test_averaging_with_the_mirror_gives_the_same_predictions_for_mirrored_images():
    """The pair (mirrored image, its mirror) is the pair (image, mirror), whatever the model."""
    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(4, 5, strides=4, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(6, activation="softmax")(x))
    images = np.random.default_rng(0).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)

    np.testing.assert_allclose(
        predict_with_mirror(model, mirror_images(images)),
        predict_with_mirror(model, images),
        atol=1e-6,
    )


def test_the_key_of_6_3_is_the_mirror_averaged_count_the_chapter_measures():
    counts = [
        re.search(r"\((\d+) of (\d+)\)", line).groups()
        for cell in read_notebook(BOOK_DIR / "06_evaluation.ipynb").cells
        if cell.cell_type == "code" and "nbval-ignore-output" not in cell_tags(cell)
        for output in cell.outputs
        for line in output.get("text", "").splitlines()
        if line.startswith("mirror-averaged test accuracy: ")
    ]
    assert counts == [(str(MIRROR_AVERAGED_CORRECT), str(TEST_IMAGES))]
    assert ANSWERS["6.3"].value() == MIRROR_AVERAGED_CORRECT


@pytest.mark.parametrize(
    "question, right, wrong", [("6.1", 98.5, 95.4), ("6.2", 0.82, 0.917), ("6.3", 119, 77)]
)
def test_the_worked_answer_passes_and_a_wrong_one_fails(question, right, wrong, capsys):
    assert answer_is_right(question, right)
    assert not answer_is_right(question, wrong)
    check_answer(question, right)
    assert "correct" in capsys.readouterr().out
