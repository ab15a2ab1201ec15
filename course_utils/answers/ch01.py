"""Answer keys of chapter 1's end-of-chapter questions (see `course_utils.questions`)."""

import numpy as np

from course_utils.data.split import CLASSES, N_TEST_SIGNERS, N_VALIDATION_SIGNERS, TRAIN_PER_CLASS
from course_utils.questions import Answer
from course_utils.resnets_utils import convert_to_one_hot


def images_left_to_train_on() -> int:
    """The training images minus one image of each class for every validation signer."""
    return len(CLASSES) * TRAIN_PER_CLASS - N_VALIDATION_SIGNERS * len(CLASSES)


def validation_targets_shape() -> tuple[int, int]:
    """The shape of the validation set's one-hot targets, (m_val, classes)."""
    labels = np.zeros((1, N_VALIDATION_SIGNERS * len(CLASSES)), dtype=np.int64)
    return convert_to_one_hot(labels, len(CLASSES)).T.shape


def constant_guess_test_accuracy() -> float:
    """The test accuracy of always answering one digit: that digit's share of the test set."""
    return N_TEST_SIGNERS / (N_TEST_SIGNERS * len(CLASSES))


ANSWERS = {
    "1.1": Answer(
        expected=images_left_to_train_on,
        hint="each held-out signer takes one image of each of the six digits out of the 1080.",
    ),
    "1.2": Answer(
        expected=validation_targets_shape,
        hint="one row per validation image (how many signers, how many images each?), one "
        "column per class.",
    ),
    "1.3": Answer(
        expected=constant_guess_test_accuracy,
        hint="how many of the 120 test images show a 3? Answer with a fraction, not a percentage.",
        rel_tol=0.03,
    ),
}
