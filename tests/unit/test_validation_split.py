"""The validation split: 30 whole signers of the training set held out (`load_validation_split`,
by the rule of `course_utils.data.split.validation_positions`), on the real course data and on
small arrays that show the rule."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from data_helpers import write_original_pair

from course_utils.data.errors import SignsDataError
from course_utils.data.paths import TRAIN_FILE
from course_utils.data.split import N_VALIDATION_SIGNERS, validation_positions
from course_utils.resnets_utils import (
    load_dataset,
    load_validation_split,
    signer_keys,
    validation_split_positions,
)

DIGITS = 6


@pytest.fixture(scope="module")
def split(built):
    """load_validation_split() of the real course data, and the training set's signer keys."""
    with h5py.File(built / TRAIN_FILE, "r") as f:
        labels, numbers = f["train_set_y"][()], f["file_numbers"][()]
    return load_validation_split(built), numbers - labels, labels


def test_it_holds_out_180_images_and_keeps_900(split):
    (x_train, y_train, x_val, y_val), _, _ = split
    assert (x_train.shape, y_train.shape) == ((900, 64, 64, 3), (1, 900))
    assert (x_val.shape, y_val.shape) == ((180, 64, 64, 3), (1, 180))
    assert x_train.dtype == x_val.dtype == np.uint8


def test_no_signer_is_on_both_sides_and_each_held_out_signer_shows_every_digit(split):
    _, keys, labels = split
    train, validation = validation_positions(keys + labels, labels)
    assert not set(keys[train].tolist()) & set(keys[validation].tolist())
    held_out = keys[validation]
    assert len(set(held_out.tolist())) == N_VALIDATION_SIGNERS == 30
    for key in set(held_out.tolist()):
        assert sorted(labels[validation][held_out == key].tolist()) == list(range(DIGITS))


def test_each_digit_has_150_training_and_30_validation_images(split):
    (_, y_train, _, y_val), _, _ = split
    assert np.bincount(y_train[0], minlength=DIGITS).tolist() == [150] * DIGITS
    assert np.bincount(y_val[0], minlength=DIGITS).tolist() == [30] * DIGITS


def test_the_images_are_those_of_the_training_file_in_their_stored_order(split, built):
    (x_train, y_train, x_val, y_val), keys, labels = split
    train, validation = validation_positions(keys + labels, labels)
    with h5py.File(built / TRAIN_FILE, "r") as f:
        x = f["train_set_x"][()]
    assert np.array_equal(x_train, x[train]) and np.array_equal(x_val, x[validation])
    assert np.array_equal(y_train[0], labels[train])
    assert np.array_equal(y_val[0], labels[validation])
    assert np.all(np.diff(train) > 0) and np.all(np.diff(validation) > 0)


def test_it_is_the_same_split_every_time(split, built):
    again = load_validation_split(built)
    for first, second in zip(split[0], again, strict=True):
        assert np.array_equal(first, second)


def test_files_without_file_numbers_are_refused_with_the_fix(tmp_path):
    folder = write_original_pair(tmp_path / "original")  # the original format has none
    with pytest.raises(SignsDataError) as refused:
        load_validation_split(folder)
    message = str(refused.value)
    assert str(folder / TRAIN_FILE) in message and "file number" in message
    assert "Fix: rebuild the course data with `make data`" in message


def test_file_numbers_of_the_wrong_length_are_refused_with_the_fix(tmp_path):
    folder = write_original_pair(tmp_path / "original", m_train=12)
    with h5py.File(folder / TRAIN_FILE, "a") as f:
        f.create_dataset("file_numbers", data=np.arange(11, dtype=np.int64))
    with pytest.raises(SignsDataError, match="11 file numbers for 12 images.*Fix: rebuild"):
        load_validation_split(folder)


def signers(keys: list[int], digits: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """File numbers and labels of signers who each sign the digits 0..digits-1, as in the dataset
    (the file number of a signer's digit d is key + d)."""
    numbers = np.array([key + d for key in keys for d in range(digits)])
    labels = np.array([d for _ in keys for d in range(digits)])
    return numbers, labels


def test_the_rule_holds_out_evenly_spaced_complete_isolated_signers():
    keys = [100 * k for k in range(1, 11)]  # ten isolated, complete signers
    numbers, labels = signers(keys)
    train, validation = validation_positions(numbers, labels, n_signers=2)
    held_out = sorted(set((numbers - labels)[validation].tolist()))
    assert held_out == [keys[2], keys[7]]  # positions (2i+1) * 10 // 4 for i = 0, 1
    assert len(validation) == 2 * 3 and len(train) == 8 * 3


def test_a_signer_near_another_or_without_every_digit_is_never_held_out():
    numbers, labels = signers([100, 105, 300, 500])  # 100 and 105 are 5 file numbers apart
    numbers, labels = numbers[:-1], labels[:-1]  # 500 lacks its last digit
    train, validation = validation_positions(numbers, labels, n_signers=1)
    assert set((numbers - labels)[validation].tolist()) == {300}
    with pytest.raises(ValueError, match="1 complete, isolated signers in the training set; 2"):
        validation_positions(numbers, labels, n_signers=2)


def test_arrays_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="3 file numbers but 2 labels"):
        validation_positions([1, 2, 3], [0, 1])


def test_signer_keys_give_each_test_signer_one_image_of_each_digit(built):
    train_keys, test_keys = signer_keys(built)
    _, _, _, Y_test, _ = load_dataset(built)
    assert train_keys.shape == (1080,) and test_keys.shape == (120,)
    assert not set(train_keys) & set(test_keys)
    for key in np.unique(test_keys):
        assert sorted(Y_test[0, test_keys == key]) == list(range(DIGITS))
    _, validation = validation_split_positions(built)
    assert len(np.unique(train_keys[validation])) == N_VALIDATION_SIGNERS


def test_signer_keys_of_files_without_file_numbers_are_refused_with_the_fix(tmp_path):
    folder = write_original_pair(tmp_path / "original")
    with pytest.raises(SignsDataError, match="file number.*Fix: rebuild"):
        signer_keys(folder)
