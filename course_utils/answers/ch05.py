"""Answer keys of chapter 5's "check your understanding" questions."""

from __future__ import annotations

import math

from course_utils.data.split import N_CLASSES
from course_utils.questions import Answer

TRAINING_IMAGES = 900  # load_validation_split's training part
BATCH_SIZE = 32
# The settings the questions ask about, none of them the chapter's own.
QUESTION_BATCH_SIZE = 64
QUESTION_MOMENTUM = 0.95
QUESTION_EPOCHS = 2
LABEL_SMOOTHING = 0.1  # the course recipe's
INITIAL_LEARNING_RATE = 1e-3  # fix_and_train's, falling along a cosine to 0
FIXED_RUN_EPOCHS = 5
QUESTION_EPOCHS_DONE = 4


def steps_per_epoch(images: int = TRAINING_IMAGES, batch_size: int = BATCH_SIZE) -> int:
    """One step per mini-batch; the last, smaller batch counts too."""
    return math.ceil(images / batch_size)


def initial_weight_left(
    momentum: float = QUESTION_MOMENTUM, epochs: int = QUESTION_EPOCHS
) -> float:
    """What the moving statistics' initial values still weigh after `epochs` epochs of batches
    of BATCH_SIZE."""
    return momentum ** (steps_per_epoch() * epochs)


def smoothed_target(smoothing: float = LABEL_SMOOTHING, classes: int = N_CLASSES) -> float:
    """Keras's label smoothing: y * (1 - smoothing) + smoothing / classes, for y = 1."""
    return 1 - smoothing + smoothing / classes


def smallest_smoothed_loss(smoothing: float = LABEL_SMOOTHING, classes: int = N_CLASSES) -> float:
    """The cross-entropy of a prediction equal to the smoothed targets: their entropy."""
    true = smoothed_target(smoothing, classes)
    other = smoothing / classes
    return -(true * math.log(true) + (classes - 1) * other * math.log(other))


def cosine_rate_after(
    epochs_done: int = QUESTION_EPOCHS_DONE, epochs: int = FIXED_RUN_EPOCHS
) -> float:
    """The cosine-decayed learning rate of `fix_and_train` once `epochs_done` of `epochs` epochs
    of batches of BATCH_SIZE are done: eta_0 (1 + cos(pi t / T)) / 2."""
    done, total = steps_per_epoch() * epochs_done, steps_per_epoch() * epochs
    return INITIAL_LEARNING_RATE * (1 + math.cos(math.pi * done / total)) / 2


ANSWERS = {
    "5.1": Answer(
        lambda: steps_per_epoch(batch_size=QUESTION_BATCH_SIZE),
        hint="divide the images by the batch size and round up.",
        rel_tol=0.0,
    ),
    "5.2": Answer(
        initial_weight_left,
        hint="the momentum to the power of the number of steps (29 steps an epoch).",
        rel_tol=0.02,
    ),
    "5.3": Answer(
        smallest_smoothed_loss,
        hint="the cross-entropy -sum(t * log(t)) of the smoothed targets t: 0.1/6 for each of the "
        "five other classes, the rest for the true class.",
        rel_tol=0.01,
    ),
    "5.4": Answer(
        cosine_rate_after,
        hint="after 4 of 5 epochs the run has taken 4 x 29 of its 5 x 29 steps; put t / T into "
        "the formula, with eta_0 = 1e-3.",
        rel_tol=0.02,
    ),
}
