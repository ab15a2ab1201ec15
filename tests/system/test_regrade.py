"""Grading outside the notebook's kernel (course_tools.regrade): a fresh process receives only the
exercise cell's source. The learner's correct cell passes there; a wrong one fails with the
grader's hint, whatever else its cell does to the graders or prints; and a verdict is taken only
with the token of the process that grades."""

from __future__ import annotations

import json

import pytest

from course_tools import regrade
from course_tools.notebooks import BOOK_DIR, read_notebook


def exercise(chapter: str, cell: str) -> str:
    (source,) = regrade.exercise_sources(read_notebook(BOOK_DIR / chapter), cell)
    return source


@pytest.fixture(scope="module")
def identity_block_cell():
    return exercise("02_identity_block.ipynb", "identity_block")


def wrong(source: str) -> str:
    changed = source.replace("X = layers.Add()([X, X_shortcut])", "X = layers.Add()([X, X])")
    assert changed != source
    return changed


def test_the_learners_correct_cell_passes(identity_block_cell):
    assert regrade.regrade("check_identity_block", identity_block_cell) == regrade.Regrade(
        True, "All tests passed."
    )


def test_a_wrong_block_fails_even_when_its_cell_rebinds_the_graders_names(identity_block_cell):
    # Inside the notebook such a cell replaces what the check cell uses; here the grader is the
    # course's, imported before the cell runs.
    cheat = (
        "from keras import layers\n"
        "check_identity_block = True\n"
        "grading = None\n"
        "report = print\n" + wrong(identity_block_cell)
    )
    result = regrade.regrade("check_identity_block", cheat)
    assert not result.passed
    assert "with the same weights as the reference, the block computes different" in result.message


def test_a_verdict_printed_by_the_learners_code_is_not_taken(identity_block_cell):
    forged = json.dumps({"token": "guess", "passed": True, "message": "All tests passed."})
    printing = wrong(identity_block_cell).replace(
        "    F1, F2, F3 = filters\n", f"    F1, F2, F3 = filters\n    print({forged!r})\n", 1
    )
    assert printing != wrong(identity_block_cell)
    assert not regrade.regrade("check_identity_block", printing).passed


def test_a_cell_outside_the_policy_fails_without_running(identity_block_cell):
    cheat = "import sys\n" + identity_block_cell
    result = regrade.regrade("check_identity_block", cheat)
    assert not result.passed
    assert result.message.startswith("the exercise cell identity_block, line 1: `import sys`")


def test_a_cell_that_needs_a_name_from_another_cell_says_so():
    result = regrade.regrade("check_identity_block", "X_shortcut = helper(1)\n")
    assert not result.passed
    assert "NameError" in result.message and "run on its own" in result.message


def test_chapter_5s_compile_cell_is_graded_on_a_model_of_its_own():
    cell = exercise("05_training.ipynb", "compile")
    wrong_loss = cell.replace('loss="categorical_crossentropy"', 'loss="mean_squared_error"')
    assert wrong_loss != cell
    result = regrade.regrade("check_training", wrong_loss)
    assert not result.passed and "loss" in result.message


def test_a_verdict_needs_the_token_and_must_be_the_last_line():
    good = json.dumps({"token": "abc", "passed": True, "message": "ok"})
    assert regrade._verdict(f"noise\n{good}\n", "abc") == json.loads(good)
    assert regrade._verdict(f"{good}\nnoise\n", "abc") is None
    assert regrade._verdict(good, "other") is None
    assert regrade._verdict("", "abc") is None


@pytest.mark.parametrize(
    ("chapter", "cell", "mistake", "hint"),
    [
        (
            "05_training.ipynb",
            "fix_and_train",
            ("layer.momentum = 0.9", "pass"),
            "have momentum 0.99, not 0.9",
        ),
        (
            "06_evaluation.ipynb",
            "random_mirror",
            ("tf.reverse(images, axis=[2])", "tf.reverse(images, axis=[1])"),
            "upside down, not mirrored",
        ),
        (
            "07_what_the_network_looks_at.ipynb",
            "grad_cam_map",
            ("np.maximum(np.sum(alpha * features, axis=-1), 0.0)", "np.sum(alpha * features, -1)"),
            "apply a ReLU",
        ),
        (
            "09_variants.ipynb",
            "basic_block",
            ('    X = layers.Activation("relu")(X)\n    ### END', "    ### END"),
            "No ReLU follows the addition",
        ),
    ],
)
def test_the_exercises_built_from_a_description_are_graded_outside_the_notebook(
    chapter, cell, mistake, hint
):
    source = exercise(chapter, cell)
    assert regrade.regrade(f"check_{cell}", source).passed
    wrong_source = source.replace(*mistake)
    assert wrong_source != source
    result = regrade.regrade(f"check_{cell}", wrong_source)
    assert not result.passed and hint in result.message
