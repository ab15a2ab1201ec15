"""Answer keys of chapter 6's end-of-chapter questions (see `course_utils.questions`)."""

from __future__ import annotations

from course_utils.evaluate import wilson_interval
from course_utils.questions import Answer

# The test split: 120 images, of which the shipped weights read 119 correctly, both alone and with
# each image's probabilities averaged with those of its mirror image (chapter 6's outputs).
TEST_IMAGES = 120
MIRROR_AVERAGED_CORRECT = 119


def lower_end_with_ten_times_the_images() -> float:
    """The lower end, in percent, of the 95% Wilson interval of 1190 correct of 1200."""
    return 100 * wilson_interval(1190, 1200)[0]


def largest_smoothed_target(smoothing: float = 0.2, classes: int = 10) -> float:
    """The target of the true class under label smoothing: 1 - smoothing + smoothing / classes."""
    return 1 - smoothing + smoothing / classes


ANSWERS = {
    "6.1": Answer(
        expected=lower_end_with_ten_times_the_images,
        hint="call wilson_interval(1190, 1200) and give the lower end in percent, such as 97.3.",
        rel_tol=0.002,
    ),
    "6.2": Answer(
        expected=largest_smoothed_target,
        hint="the true class keeps 1 - 0.2 of its target and gets its share of the 0.2 spread "
        "evenly over all ten classes.",
    ),
    "6.3": Answer(
        expected=MIRROR_AVERAGED_CORRECT,
        hint="write down the two images whose probabilities are averaged for a mirrored image, "
        "and compare them with the pair for the original image.",
        rel_tol=0.0,
    ),
}
