"""Answer keys of chapter 5's "check your understanding" questions."""

from __future__ import annotations

import math

from course_utils.data.split import N_CLASSES
from course_utils.questions import Answer

TRAINING_IMAGES = 900  # load_validation_split's training part
BATCH_SIZE = 32
EPOCHS = 5
MOMENTUM = 0.99
LABEL_SMOOTHING = 0.1


def steps_per_epoch(images: int = TRAINING_IMAGES, batch_size: int = BATCH_SIZE) -> int:
    """One step per mini-batch; the last, smaller batch counts too."""
    return math.ceil(images / batch_size)


def initial_weight_left(momentum: float = MOMENTUM, epochs: int = EPOCHS) -> float:
    """What the moving statistics' initial values still weigh after `epochs` epochs."""
    return momentum ** (steps_per_epoch() * epochs)


def smoothed_target(smoothing: float = LABEL_SMOOTHING, classes: int = N_CLASSES) -> float:
    """Keras's label smoothing: y * (1 - smoothing) + smoothing / classes, for y = 1."""
    return 1 - smoothing + smoothing / classes


ANSWERS = {
    "5.1": Answer(
        steps_per_epoch, hint="divide the images by the batch size and round up.", rel_tol=0.0
    ),
    "5.2": Answer(
        initial_weight_left,
        hint="the momentum to the power of the number of steps (29 steps an epoch).",
        rel_tol=0.02,
    ),
    "5.3": Answer(
        smoothed_target, hint="1 - 0.1 for the true class, plus 0.1 spread over all 6 classes."
    ),
}
