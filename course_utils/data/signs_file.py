"""The one check of a SIGNS `.h5` file, used by `load_dataset` and by the streamed pipeline alike.

The original SIGNS file format:

* `train_signs.h5`: `train_set_x` uint8 (m_train, H, W, 3), `train_set_y` integer (m_train,) or
  (1, m_train), `list_classes` (n_classes,);
* `test_signs.h5`: `test_set_x`, `test_set_y`, `list_classes` likewise.

Other datasets in the files (such as `file_numbers`) are ignored. `open_signs_file` checks the
datasets' shapes and dtypes and every label, without reading the images; `read_signs_file` then
reads them too. Every problem raises one `SignsDataError` (a ValueError) whose message names the
file and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from course_utils.data.errors import SignsDataError, rebuild_fix
from course_utils.data.paths import TEST_FILE, TRAIN_FILE


class SignsSet(NamedTuple):
    """One SIGNS file's contents.

    Attributes:
        x: images (m, H, W, 3) uint8: an array from `read_signs_file`; from `open_signs_file`, the
            open `h5py.Dataset`, read by slicing.
        y: labels (m,) int64, each in 0..n_classes-1.
        classes: (n_classes,).
    """

    x: np.ndarray | h5py.Dataset
    y: np.ndarray
    classes: np.ndarray


def read_signs_file(path: Path | str, prefix: str) -> SignsSet:
    """Read and validate one SIGNS file (`prefix` is "train" or "test").

    Returns:
        SignsSet(x (m, H, W, 3) uint8, y (m,) int64, classes (n_classes,)).
    """
    with open_signs_file(path, prefix) as signs:
        return signs._replace(x=np.asarray(signs.x[()]))


@contextmanager
def open_signs_file(path: Path | str, prefix: str) -> Iterator[SignsSet]:
    """Open and validate one SIGNS file (`prefix` is "train" or "test"), images left unread.

    Yields:
        SignsSet(x h5py.Dataset (m, H, W, 3) uint8, y (m,) int64, classes (n_classes,)), valid
        while the context is open. An error reading the file inside the context is reported as
        one SignsDataError too.
    """
    path = Path(path)
    if not path.is_file():
        raise _error(path, "is missing")
    if path.stat().st_size == 0:
        raise _error(path, "is empty")
    try:
        with h5py.File(path, "r") as f:
            yield _validated(f, path, prefix)
    except (OSError, RuntimeError) as e:
        raise _error(path, f"is not a readable HDF5 file (truncated or not HDF5: {e})") from e


def _dataset(f: h5py.File, path: Path, key: str) -> h5py.Dataset:
    item = f.get(key)
    if not isinstance(item, h5py.Dataset):
        raise _error(path, f"has no dataset {key!r} (it holds {sorted(f.keys())})")
    return item


def _validated(f: h5py.File, path: Path, prefix: str) -> SignsSet:
    xk, yk = f"{prefix}_set_x", f"{prefix}_set_y"
    x = _dataset(f, path, xk)
    y_dataset = _dataset(f, path, yk)
    classes = np.asarray(_dataset(f, path, "list_classes")[()])
    if x.dtype != np.uint8:
        raise _error(path, f"{xk} has dtype {x.dtype}; SIGNS images are uint8 (0-255)")
    if x.ndim != 4 or x.shape[-1] != 3 or 0 in x.shape:
        raise _error(path, f"{xk} has shape {x.shape}; expected (m, height, width, 3), m > 0")
    y = np.asarray(y_dataset[()])
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


def check_same_kind(train: SignsSet, test: SignsSet, folder: Path) -> None:
    """Check that a folder's training and test files hold images of one size and one class list."""
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
