"""Graders of the course's exercises.

Each takes the learner's function, prints ``All tests passed.`` and returns True, or prints a hint
that names the mistake and returns False. They never raise: an error in learner code is reported
as a failure with its message. They judge behaviour (shapes, parameter counts and outputs under
identical weights), never layer names.
"""

from course_utils.grading.blocks import check_convolutional_block, check_identity_block
from course_utils.grading.compile_settings import check_training
from course_utils.grading.fixed_training import check_fix_and_train
from course_utils.grading.grad_cam_map import check_grad_cam_map
from course_utils.grading.harness import PASSED
from course_utils.grading.random_mirror import check_random_mirror
from course_utils.grading.resnet50 import check_resnet50
from course_utils.grading.variants import (
    check_basic_block,
    check_convolutional_block_v1_5,
    check_preactivation_identity_block,
)

__all__ = [
    "PASSED",
    "check_basic_block",
    "check_convolutional_block",
    "check_convolutional_block_v1_5",
    "check_fix_and_train",
    "check_grad_cam_map",
    "check_identity_block",
    "check_preactivation_identity_block",
    "check_random_mirror",
    "check_resnet50",
    "check_training",
]
