"""Helpers for the data-layer tests: the real build (made once a session), source trees, zips,
local HTTP serving, the data command line and small files in the original SIGNS format."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from local_server import serve_folder

from course_utils.data.build import prepare
from course_utils.data.paths import TEST_FILE, TRAIN_FILE, default_source_dir
from course_utils.data.split import CLASSES as USED_DIGITS

__all__ = ["serve_folder"]  # re-exported for the data tests
GITHUB_PREFIX = "Sign-Language-Digits-Dataset-4b09433ef9d5c60602e8805bb54b8aa2428527f8/"

# Resolved at import, before any test points the project's paths elsewhere.
SHARED_SOURCE = default_source_dir()

# Built once per test session and shared by the test modules that need the real data.
_SESSION: dict[str, Path] = {}


def shared_source() -> Path:
    """The real Sign Language Digits folder; skips the test where it is absent."""
    if not (SHARED_SOURCE / "Dataset").is_dir():
        pytest.skip(f"the Sign Language Digits folder {SHARED_SOURCE} is not here")
    return SHARED_SOURCE


def session_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the real course data, built from the shared images once a session."""
    if "build" not in _SESSION:
        out = tmp_path_factory.mktemp("signs-built")
        prepare(shared_source(), out, progress=False, log=None)
        _SESSION["build"] = out
    return _SESSION["build"]


def session_source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy (dataset folder with Dataset/<d>/) of the images of digits 0-5.

    Tests that alter a source link to this copy, never to the shared folder.
    """
    if "source" not in _SESSION:
        root = tmp_path_factory.mktemp("signs-source")
        for digit in USED_DIGITS:
            src = shared_source() / "Dataset" / str(digit)
            dst = root / "Dataset" / str(digit)
            dst.mkdir(parents=True)
            for path in src.glob("IMG_*.JPG"):
                shutil.copyfile(path, dst / path.name)
        _SESSION["source"] = root
    return _SESSION["source"]


def data_command(*args: str) -> list[str]:
    """`python -m course_utils.data <args>`, run by this interpreter."""
    return [sys.executable, "-m", "course_utils.data", *args]


def data_command_env() -> dict[str, str]:
    """The environment for `data_command`: this one, TensorFlow's log quiet."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def link_tree(source: Path, dest: Path) -> Path:
    """A dataset folder at `dest` whose images are symlinks to those of `source`."""
    for path in sorted((source / "Dataset").glob("*/IMG_*.JPG")):
        target = dest / "Dataset" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)
    return dest


def replace_file(path: Path, data: bytes) -> None:
    """Give `path` new contents without writing through a symlink it may be."""
    path.unlink()
    path.write_bytes(data)


def image_path(root: Path, number: int, digit: int) -> Path:
    return root / "Dataset" / str(digit) / f"IMG_{number}.JPG"


def make_zip(source: Path, archive: Path, prefix: str = GITHUB_PREFIX) -> Path:
    """Zip the images of a dataset folder as GitHub's archive lays them out."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(prefix + "README.md", "Sign Language Digits Dataset\n")
        for path in sorted((source / "Dataset").glob("*/IMG_*.JPG")):
            zf.write(path, f"{prefix}Dataset/{path.parent.name}/{path.name}")
    return archive


def read_arrays(folder: Path) -> dict[str, np.ndarray]:
    """Every dataset of both SIGNS files, keyed `<train|test>/<name>`."""
    arrays = {}
    for split, name in (("train", TRAIN_FILE), ("test", TEST_FILE)):
        with h5py.File(folder / name, "r") as f:
            for key in f:
                arrays[f"{split}/{key}"] = f[key][()]
    return arrays


def assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert a[key].tobytes() == b[key].tobytes(), key


def listing(folder: Path) -> list[str]:
    """Every file and folder under `folder`, relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def write_signs_file(path: Path, prefix: str, **datasets: np.ndarray) -> Path:
    """An HDF5 file holding `datasets`; names `x`, `y` become `<prefix>_set_x`, `<prefix>_set_y`."""
    names = {"x": f"{prefix}_set_x", "y": f"{prefix}_set_y"}
    with h5py.File(path, "w") as f:
        for key, value in datasets.items():
            f.create_dataset(names.get(key, key), data=value)
    return path


def original_signs(m: int, seed: int) -> dict[str, np.ndarray]:
    """Arrays of a small, valid SIGNS file: x (m, 64, 64, 3) uint8, y (m,) int64, 6 classes."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8),
        "y": np.arange(m, dtype=np.int64) % 6,
        "list_classes": np.arange(6, dtype=np.int64),
    }


def write_original_pair(folder: Path, m_train: int = 12, m_test: int = 6) -> Path:
    """A folder with train_signs.h5 and test_signs.h5 in the original format, nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    write_signs_file(folder / TRAIN_FILE, "train", **original_signs(m_train, seed=0))
    write_signs_file(folder / TEST_FILE, "test", **original_signs(m_test, seed=1))
    return folder
