"""The sign test and the bootstrap over signers (course_utils.evaluate), checked against SciPy-free
closed forms and against direct enumeration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_utils.evaluate import group_bootstrap_interval, mcnemar_exact, sign_test


def test_the_sign_test_counts_signs_ignores_ties_and_gives_the_exact_binomial_p_value():
    result = sign_test(np.array([0.5, 0.1, -0.2, 0.0, 0.3, 0.7, 0.2]))
    assert (result.positive, result.negative) == (5, 1)
    # P(B <= 1) for B ~ Binomial(6, 1/2) is 7/64; two-sided 14/64.
    assert result.p_value == pytest.approx(14 / 64)


def test_the_sign_test_of_no_difference_is_one_and_of_all_one_way_is_small():
    assert sign_test(np.zeros(5)).p_value == 1.0
    assert sign_test(np.ones(10)).p_value == pytest.approx(2 / 2**10)


def test_mcnemar_is_the_sign_test_of_the_images_where_one_classifier_is_right():
    rng = np.random.default_rng(1)
    first, second = rng.random(60) < 0.8, rng.random(60) < 0.6
    paired = mcnemar_exact(first, second)
    signs = sign_test(first.astype(int) - second.astype(int))
    assert (paired.only_first, paired.only_second, paired.p_value) == signs


def test_the_sign_test_refuses_a_table_of_differences():
    with pytest.raises(ValueError, match=r"shape \(m,\)"):
        sign_test(np.zeros((3, 2)))


def _enumerated_interval(correct, counts, confidence=0.95):
    """The exact percentile interval of the group bootstrap, by enumerating every resample."""
    g = len(correct)
    accuracies, weights = [], []
    for draw in np.ndindex(*(g,) * g):
        accuracies.append(sum(correct[i] for i in draw) / sum(counts[i] for i in draw))
        weights.append(1.0)
    order = np.argsort(accuracies)
    sorted_accuracies = np.asarray(accuracies)[order]
    cumulative = np.cumsum(np.asarray(weights)[order]) / len(weights)
    tail = (1 - confidence) / 2
    return (
        sorted_accuracies[np.searchsorted(cumulative, tail)],
        sorted_accuracies[np.searchsorted(cumulative, 1 - tail)],
    )


def test_the_group_bootstrap_resamples_signers_and_matches_the_enumerated_interval():
    # Four signers of six images: 6, 6, 3 and 5 right.
    right = np.array([1] * 6 + [1] * 6 + [1] * 3 + [0] * 3 + [1] * 5 + [0], bool)
    groups = np.repeat([10, 20, 30, 40], 6)
    result = group_bootstrap_interval(right, groups, resamples=50_000, seed=3)
    low, high = _enumerated_interval([6, 6, 3, 5], [6, 6, 6, 6])
    assert result.groups == 4
    assert result.low == pytest.approx(low, abs=1 / 24 + 1e-9)
    assert result.high == pytest.approx(high, abs=1 / 24 + 1e-9)


def test_clustered_mistakes_widen_the_group_interval_beyond_scattered_ones():
    groups = np.repeat(np.arange(20), 6)
    clustered = np.ones(120, bool)
    clustered[:6] = False  # one signer read wrong six times
    scattered = np.ones(120, bool)
    scattered[::20] = False  # six signers read wrong once each
    wide = group_bootstrap_interval(clustered, groups)
    narrow = group_bootstrap_interval(scattered, groups)
    assert wide.high - wide.low > 1.5 * (narrow.high - narrow.low)
    assert math.isclose(wide.high, 1.0)


def test_the_group_bootstrap_refuses_answers_and_groups_of_different_lengths():
    with pytest.raises(ValueError, match="one answer and one group per image"):
        group_bootstrap_interval(np.ones(6, bool), np.arange(5))
