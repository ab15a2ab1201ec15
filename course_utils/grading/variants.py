"""Graders of chapter 9's exercises, the v1.5 convolutional block and the pre-activation identity
block: `course_utils.variants.check_variant_block` compares them with the reference of that
module; these names are what the chapter's check cells import, like the other graders."""

from __future__ import annotations

from collections.abc import Callable

from course_utils import variants


def _check(function: Callable, name: str) -> bool:
    if function is getattr(variants, name):
        print(
            f"Test failed: {name} is the course's reference implementation "
            f"(course_utils.variants.{name}), not your own code: write {name} yourself in the "
            "exercise cell, without importing it."
        )
        return False
    return variants.check_variant_block(function, name)


def check_convolutional_block_v1_5(convolutional_block_v1_5: Callable) -> bool:
    """Grade a learner's ``convolutional_block_v1_5(X, f, filters, stage, block, s=2)``: prints
    the verdict and returns True when it computes what the reference computes. Never raises."""
    return _check(convolutional_block_v1_5, "convolutional_block_v1_5")


def check_preactivation_identity_block(preactivation_identity_block: Callable) -> bool:
    """Grade a learner's ``preactivation_identity_block(X, f, filters, stage, block)``: prints
    the verdict and returns True when it computes what the reference computes. Never raises."""
    return _check(preactivation_identity_block, "preactivation_identity_block")
