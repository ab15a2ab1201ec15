"""The shipped ResNet-50 weights: export as float16 HDF5, verify the pinned SHA-256, load.

The file is a Keras `.weights.h5` whose float32 arrays are stored as float16 (half the size);
`keras.Model.load_weights` casts them back on loading. Loading reads HDF5 arrays only: nothing is
unpickled and no model code comes from the file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import h5py
import numpy as np

from course_utils.atomic_files import atomic_write
from course_utils.data.manifest import sha256_file
from course_utils.data.paths import ASSETS_DIR

SHIPPED_WEIGHTS = ASSETS_DIR / "resnet50_signs.weights.h5"
SHIPPED_WEIGHTS_SHA256_FILE = ASSETS_DIR / "resnet50_signs.weights.h5.sha256"
# {"course": history of the shipped weights, "original": history of the original recipe}, each a
# dict of per-epoch lists (loss, accuracy, val_loss, val_accuracy) as `train` writes them.
SHIPPED_HISTORY = ASSETS_DIR / "resnet50_signs.history.json"
MODEL_CARD = ASSETS_DIR / "resnet50_signs.md"


def export_float16(model, path: Path) -> str:
    """Save `model`'s weights as float16 `.weights.h5` at `path`, atomically; return the SHA-256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=path.parent) as folder:
        full = Path(folder) / "float32.weights.h5"
        model.save_weights(full)

        def write_float16(tmp: Path) -> None:
            with h5py.File(full, "r") as src, h5py.File(tmp, "w") as dst:
                _copy_as_float16(src, dst)

        atomic_write(path, write_float16)
    return sha256_file(path)


def _copy_as_float16(src: h5py.Group, dst: h5py.Group):
    """Copy groups, attributes and datasets, storing float32 arrays as float16."""
    for key, value in src.attrs.items():
        dst.attrs[key] = value
    for key, item in src.items():
        if isinstance(item, h5py.Group):
            _copy_as_float16(item, dst.create_group(key))
        elif item.dtype == np.float32:
            dst.create_dataset(key, data=item[()].astype(np.float16))
        else:
            dst.create_dataset(key, data=item[()])


def load_shipped_weights(model, path: Path | None = None, expected_sha256: str | None = None):
    """Load the shipped weights into `model` (a `course_utils.resnet.ResNet50()`) after checking
    the file's SHA-256 against the pinned value.

    Raises:
        FileNotFoundError: the weights file is missing.
        ValueError: the checksum differs, or the file is for another architecture or class count.
    """
    path = Path(path or SHIPPED_WEIGHTS)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. The shipped weights come with the course repository "
            "(course_utils/data); reinstall it, or train your own weights with "
            "`python -m course_utils.training`."
        )
    if expected_sha256 is None and path == SHIPPED_WEIGHTS:
        expected_sha256 = SHIPPED_WEIGHTS_SHA256_FILE.read_text().split()[0]
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            raise ValueError(
                f"{path} has SHA-256 {actual}, expected {expected_sha256}: the file is damaged or "
                "was replaced. Restore it with `git checkout -- course_utils/data`."
            )
    try:
        model.load_weights(path)
    except (ValueError, KeyError) as error:
        raise ValueError(
            f"{path} does not fit this model ({model.name}, output {tuple(model.output.shape)}): "
            f"{error}. The shipped weights are for ResNet50(input_shape=(64, 64, 3), classes=6)."
        ) from error
    return model
