"""The course's data interface, as in the original assignment: `load_dataset`, `convert_to_one_hot`.

`load_dataset` reads the original SIGNS file format:

* `train_signs.h5`: `train_set_x` uint8 (m_train, H, W, 3), `train_set_y` integer (m_train,) or
  (1, m_train), `list_classes` (n_classes,);
* `test_signs.h5`: `test_set_x`, `test_set_y`, `list_classes` likewise.

Other datasets in the files (such as `file_numbers`) are ignored. Every problem raises one
`SignsDataError` (a ValueError) whose message names the file and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from course_utils.data.errors import SignsDataError, rebuild_fix
from course_utils.data.paths import TEST_FILE, TRAIN_FILE
from course_utils.data.signs_dataset import ensure_signs_data


class SignsSet(NamedTuple):
    """One SIGNS file's contents: x (m, H, W, 3) uint8, y (m,) int64, classes (n_classes,)."""

    x: np.ndarray
    y: np.ndarray
    classes: np.ndarray


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
    _check_same_kind(train, test, folder)
    return (
        train.x,
        train.y.reshape(1, -1),
        test.x,
        test.y.reshape(1, -1),
        test.classes,
    )


def read_signs_file(path: Path | str, prefix: str) -> SignsSet:
    """Read and validate one SIGNS file (`prefix` is "train" or "test").

    Returns:
        SignsSet(x (m, H, W, 3) uint8, y (m,) int64, classes (n_classes,)).
    """
    path = Path(path)
    if not path.is_file():
        raise _error(path, "is missing")
    if path.stat().st_size == 0:
        raise _error(path, "is empty")
    try:
        with h5py.File(path, "r") as f:
            x = _read_array(f, path, f"{prefix}_set_x")
            y = _read_array(f, path, f"{prefix}_set_y")
            classes = _read_array(f, path, "list_classes")
    except (OSError, RuntimeError) as e:
        raise _error(path, f"is not a readable HDF5 file (truncated or not HDF5: {e})") from e
    return _validated(path, prefix, x, y, classes)


def _read_array(f: h5py.File, path: Path, key: str) -> np.ndarray:
    item = f.get(key)
    if not isinstance(item, h5py.Dataset):
        raise _error(path, f"has no dataset {key!r} (it holds {sorted(f.keys())})")
    return np.asarray(item[()])


def _validated(
    path: Path, prefix: str, x: np.ndarray, y: np.ndarray, classes: np.ndarray
) -> SignsSet:
    xk, yk = f"{prefix}_set_x", f"{prefix}_set_y"
    if x.dtype != np.uint8:
        raise _error(path, f"{xk} has dtype {x.dtype}; SIGNS images are uint8 (0-255)")
    if x.ndim != 4 or x.shape[-1] != 3 or 0 in x.shape:
        raise _error(path, f"{xk} has shape {x.shape}; expected (m, height, width, 3), m > 0")
    if not np.issubdtype(y.dtype, np.integer):
        raise _error(path, f"{yk} has dtype {y.dtype}; labels must be integers")
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    if y.ndim != 1:
        raise _error(path, f"{yk} has shape {y.shape}; expected (m,) or (1, m)")
    if len(y) != len(x):
        raise _error(path, f"{xk} holds {len(x)} images but {yk} holds {len(y)} labels")
    if classes.ndim != 1 or len(classes) == 0:
        raise _error(path, f"list_classes has shape {classes.shape}; expected (n_classes,)")
    bad = (y < 0) | (y >= len(classes))
    if bad.any():
        raise _error(
            path,
            f"{yk} holds label {y[bad][0]} at index {int(np.argmax(bad))}, outside "
            f"0..{len(classes) - 1} (list_classes has {len(classes)} entries)",
        )
    return SignsSet(x, y.astype(np.int64), classes)


def _check_same_kind(train: SignsSet, test: SignsSet, folder: Path) -> None:
    if train.x.shape[1:] != test.x.shape[1:]:
        raise SignsDataError(
            f"{folder / TRAIN_FILE} and {folder / TEST_FILE} hold images of different sizes "
            f"({train.x.shape[1:]} and {test.x.shape[1:]}). {rebuild_fix()}"
        )
    if not np.array_equal(train.classes, test.classes):
        raise SignsDataError(
            f"{folder / TRAIN_FILE} and {folder / TEST_FILE} list different classes "
            f"({train.classes.tolist()} and {test.classes.tolist()}). {rebuild_fix()}"
        )


def _error(path: Path, problem: str) -> SignsDataError:
    return SignsDataError(f"the SIGNS file {path} {problem}. {rebuild_fix()}")


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
