"""Answer keys of chapter 1's end-of-chapter questions (see `course_utils.questions`)."""

import numpy as np

from course_utils.data.split import CLASSES, N_TEST_SIGNERS, N_VALIDATION_SIGNERS, TRAIN_PER_CLASS
from course_utils.questions import Answer
from course_utils.resnets_utils import convert_to_one_hot

QUESTION_VALIDATION_SIGNERS = 40  # question 1.1's, not the split's N_VALIDATION_SIGNERS


def images_left_to_train_on(validation_signers: int = QUESTION_VALIDATION_SIGNERS) -> int:
    """The training images minus one image of each class for every validation signer."""
    return len(CLASSES) * TRAIN_PER_CLASS - validation_signers * len(CLASSES)


def validation_targets_shape() -> tuple[int, int]:
    """The shape of the validation set's one-hot targets, (m_val, classes)."""
    labels = np.zeros((1, N_VALIDATION_SIGNERS * len(CLASSES)), dtype=np.int64)
    return convert_to_one_hot(labels, len(CLASSES)).T.shape


def one_digit_always_wrong_test_accuracy() -> float:
    """The test accuracy of a model wrong on every image of one digit and right on the others:
    the other digits' share of the test set (each test signer shows each digit once)."""
    return (len(CLASSES) - 1) * N_TEST_SIGNERS / (N_TEST_SIGNERS * len(CLASSES))


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
        expected=one_digit_always_wrong_test_accuracy,
        hint="how many of the 120 test images show a 3? Answer with a fraction, not a percentage.",
        rel_tol=0.03,
    ),
}
