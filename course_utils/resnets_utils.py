"""The course's data interface, as in the original assignment: `load_dataset`, `convert_to_one_hot`;
and `load_validation_split`, which holds whole signers of the training set out for validation.

`load_dataset` reads the original SIGNS file format, checked by `course_utils.data.signs_file`:
every problem raises one `SignsDataError` (a ValueError) whose message names the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from course_utils.data.build import ensure_signs_data
from course_utils.data.errors import SignsDataError, rebuild_fix
from course_utils.data.paths import TEST_FILE, TRAIN_FILE
from course_utils.data.signs_file import check_same_kind, open_signs_file, read_signs_file
from course_utils.data.split import N_VALIDATION_SIGNERS, validation_positions


def load_dataset(
    data_dir: Path | str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the SIGNS training and test sets.

    Args:
        data_dir: folder holding `train_signs.h5` and `test_signs.h5` (for instance the original
            SIGNS files). Default: `paths.default_data_dir()` ($SIGNS_DATA_DIR, else the
            project's cache `data/signs/`), built from the Sign Language Digits images first if
            it is empty or incomplete.

    Returns:
        (X_train_orig (m_train, 64, 64, 3) uint8, Y_train_orig (1, m_train) int64,
         X_test_orig (m_test, 64, 64, 3) uint8, Y_test_orig (1, m_test) int64,
         classes (n_classes,)). The course data has m_train = 1080, m_test = 120, classes 0..5.

    Raises:
        SignsDataError: a folder or file is missing or unreadable, or its contents are not
            SIGNS data; the message names the file and how to fix it.
    """
    folder = Path(data_dir) if data_dir is not None else ensure_signs_data()
    if not folder.is_dir():
        raise SignsDataError(f"the SIGNS data folder {folder} does not exist. {rebuild_fix()}")
    train = read_signs_file(folder / TRAIN_FILE, "train")
    test = read_signs_file(folder / TEST_FILE, "test")
    check_same_kind(train, test, folder)
    return (
        train.x,
        train.y.reshape(1, -1),
        test.x,
        test.y.reshape(1, -1),
        test.classes,
    )


def load_validation_split(
    data_dir: Path | str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The SIGNS training set, split by signer into images to train on and to validate on.

    Thirty signers of the training set (one image of each digit each) are held out, chosen by
    `course_utils.data.split.validation_positions`: no signer has images on both sides, as between
    the training and the test set. Tune on the validation images; touch the test set once, for
    the final number.

    Args:
        data_dir: as for `load_dataset`.

    Returns:
        (X_train_orig (900, 64, 64, 3) uint8, Y_train_orig (1, 900) int64,
         X_val_orig (180, 64, 64, 3) uint8, Y_val_orig (1, 180) int64), in the stored order.

    Raises:
        SignsDataError: as `load_dataset`, or the training file does not record the source file
            number of its images (files not built by this course).
    """
    folder = Path(data_dir) if data_dir is not None else ensure_signs_data()
    x, y, _, _, _ = load_dataset(folder)
    train, validation = validation_split_positions(folder)
    return x[train], y[:, train], x[validation], y[:, validation]


def validation_split_positions(
    data_dir: Path | str | None = None, n_signers: int = N_VALIDATION_SIGNERS
) -> tuple[np.ndarray, np.ndarray]:
    """Where `load_validation_split`'s images lie in the training file.

    Args:
        data_dir: as for `load_dataset`.
        n_signers: how many signers to hold out (the course: 30).

    Returns:
        (train (900,) int, validation (180,) int): increasing positions in `train_signs.h5`
        (for the course data and 30 signers).

    Raises:
        SignsDataError: as `load_validation_split`.
    """
    folder = Path(data_dir) if data_dir is not None else ensure_signs_data()
    numbers, labels = _file_numbers_and_labels(folder / TRAIN_FILE, "train")
    train, validation = validation_positions(numbers, labels, n_signers)
    return np.asarray(train), np.asarray(validation)


def signer_keys(data_dir: Path | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Who signed each image: a key shared by all images of one signer (`file number - digit`,
    since each signer photographed the digits one after another).

    Args:
        data_dir: as for `load_dataset`.

    Returns:
        (train_keys (m_train,) int64, test_keys (m_test,) int64), in the stored order of
        `load_dataset`'s arrays; `train_keys[validation_split_positions()[1]]` are the validation
        images' signers.

    Raises:
        SignsDataError: as `load_validation_split`.
    """
    folder = Path(data_dir) if data_dir is not None else ensure_signs_data()
    keys = []
    for name, prefix in ((TRAIN_FILE, "train"), (TEST_FILE, "test")):
        numbers, labels = _file_numbers_and_labels(folder / name, prefix)
        keys.append(numbers.astype(np.int64) - labels.astype(np.int64))
    return keys[0], keys[1]


def _file_numbers_and_labels(path: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """The source file number and the label of each image of a SIGNS file built by the course."""
    with open_signs_file(path, prefix) as signs:
        labels = np.asarray(signs.y).reshape(-1)
    with h5py.File(path, "r") as f:
        if "file_numbers" not in f:
            raise SignsDataError(
                f"{path} does not record the file number of its images, so its signers are "
                f"unknown. {rebuild_fix()}"
            )
        numbers = f["file_numbers"][()]
    if numbers.shape != labels.shape:
        raise SignsDataError(
            f"{path} holds {numbers.size} file numbers for {labels.size} images. {rebuild_fix()}"
        )
    return numbers, labels


def convert_to_one_hot(Y: np.ndarray, C: int) -> np.ndarray:
    """One-hot encode integer labels, as the original course did.

    Args:
        Y: labels in 0..C-1, any shape with m elements (the course passes (1, m)).
        C: the number of classes.

    Returns:
        (C, m) float64 array; column j is the one-hot vector of the j-th label.

    Raises:
        ValueError: C is not a positive integer, or a label is not an integer in 0..C-1.
    """
    if isinstance(C, bool) or not isinstance(C, int | np.integer) or C < 1:
        raise ValueError(f"C must be a positive integer number of classes, got {C!r}")
    labels = np.asarray(Y).reshape(-1)
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.floating) or not np.all(labels == np.round(labels)):
            raise ValueError(f"labels must be integers in 0..{C - 1}, got dtype {labels.dtype}")
        labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= C)
    if bad.any():
        raise ValueError(
            f"label {labels[bad][0]} at index {int(np.argmax(bad))} is outside 0..{C - 1} "
            f"(C = {C} classes)"
        )
    return np.eye(C)[labels].T
