"""The course's data interface: load_dataset on real, original-format and broken files, the
default folder and its automatic build, and convert_to_one_hot."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest
from data_helpers import (
    listing,
    original_signs,
    read_arrays,
    session_source_copy,
    write_original_pair,
    write_signs_file,
)

from course_utils.data import paths
from course_utils.data.build import cache_is_current
from course_utils.data.errors import SignsDataError
from course_utils.data.paths import TEST_FILE, TRAIN_FILE
from course_utils.resnets_utils import convert_to_one_hot, load_dataset


@pytest.fixture
def isolated_defaults(tmp_path, monkeypatch, tmp_path_factory):
    """Point the default data folder at an empty project under tmp_path, the source at a copy."""
    source = session_source_copy(tmp_path_factory)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("")
    monkeypatch.setattr(paths, "PROJECT_ROOT", project)
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)
    monkeypatch.setenv("SIGN_DIGITS_SOURCE", str(source))
    assert paths.default_data_dir() == project / "data" / "signs"
    return project / "data" / "signs"


def _assert_course_data(result, reference_folder=None):
    X_train, Y_train, X_test, Y_test, classes = result
    assert X_train.shape == (1080, 64, 64, 3) and X_train.dtype == np.uint8
    assert Y_train.shape == (1, 1080) and Y_train.dtype == np.int64
    assert X_test.shape == (120, 64, 64, 3) and X_test.dtype == np.uint8
    assert Y_test.shape == (1, 120) and Y_test.dtype == np.int64
    assert classes.shape == (6,) and classes.tolist() == [0, 1, 2, 3, 4, 5]
    assert np.bincount(Y_train[0]).tolist() == [180] * 6
    assert np.bincount(Y_test[0]).tolist() == [20] * 6
    if reference_folder is not None:
        ref = read_arrays(reference_folder)
        np.testing.assert_array_equal(X_train, ref["train/train_set_x"])
        np.testing.assert_array_equal(Y_train[0], ref["train/train_set_y"])
        np.testing.assert_array_equal(X_test, ref["test/test_set_x"])
        np.testing.assert_array_equal(Y_test[0], ref["test/test_set_y"])


# ---------------------------------------------------------------------------------------------
# Reading good data


def test_load_dataset_from_an_explicit_folder(built):
    _assert_course_data(load_dataset(built), built)
    _assert_course_data(load_dataset(str(built)), built)


def test_load_dataset_from_signs_data_dir(built, monkeypatch, capsys):
    monkeypatch.setenv("SIGNS_DATA_DIR", str(built))
    _assert_course_data(load_dataset(), built)
    assert capsys.readouterr().out == ""


def test_load_dataset_reads_original_files_without_anything_else(tmp_path, monkeypatch, capsys):
    folder = write_original_pair(tmp_path / "coursera", m_train=12, m_test=6)
    before = listing(folder)
    X_train, Y_train, X_test, Y_test, classes = load_dataset(folder)
    assert X_train.shape == (12, 64, 64, 3) and Y_train.shape == (1, 12)
    assert X_test.shape == (6, 64, 64, 3) and Y_test.shape == (1, 6)
    assert Y_train.dtype == np.int64 and classes.tolist() == list(range(6))
    np.testing.assert_array_equal(X_train, original_signs(12, seed=0)["x"])
    # Also as the default folder: used as it is, nothing built or written.
    monkeypatch.setenv("SIGNS_DATA_DIR", str(folder))
    np.testing.assert_array_equal(load_dataset()[2], X_test)
    assert capsys.readouterr().out == "" and listing(folder) == before


def test_labels_stored_as_one_row_are_accepted(tmp_path):
    folder = write_original_pair(tmp_path / "signs")
    arrays = original_signs(12, seed=0)
    write_signs_file(folder / TRAIN_FILE, "train", **{**arrays, "y": arrays["y"][None, :]})
    assert load_dataset(folder)[1].tolist() == [arrays["y"].tolist()]


def test_default_folder_is_built_once_when_empty(isolated_defaults, built, capsys):
    result = load_dataset()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "building it from" in lines[0]
    assert str(isolated_defaults) in lines[0]
    _assert_course_data(result, built)
    assert cache_is_current(isolated_defaults)
    load_dataset()
    assert capsys.readouterr().out == ""


def test_incomplete_default_folder_is_rebuilt(isolated_defaults, built, capsys):
    isolated_defaults.mkdir(parents=True)
    shutil.copyfile(built / TRAIN_FILE, isolated_defaults / TRAIN_FILE)
    _assert_course_data(load_dataset(), built)
    assert "missing or incomplete" in capsys.readouterr().out
    assert cache_is_current(isolated_defaults)


def test_auto_build_without_a_source_says_how_to_fix_it(isolated_defaults, monkeypatch):
    monkeypatch.setenv("SIGN_DIGITS_SOURCE", "/nonexistent/sign-digits")
    with pytest.raises(SignsDataError) as info:
        load_dataset()
    message = str(info.value)
    assert "/nonexistent/sign-digits" in message
    assert "SIGN_DIGITS_SOURCE" in message and "SIGNS_DATA_DIR" in message


# ---------------------------------------------------------------------------------------------
# Broken data: one SignsDataError naming the file and the fix


def _replace(path, **changes):
    """Rewrite a train/test file of the original pair with some datasets changed (None drops)."""
    prefix = path.name.split("_")[0]
    arrays = original_signs(12 if prefix == "train" else 6, seed=0 if prefix == "train" else 1)
    arrays.update(changes)
    write_signs_file(path, prefix, **{k: v for k, v in arrays.items() if v is not None})


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BROKEN = {
    "train-missing": (TRAIN_FILE, lambda p: p.unlink(), "is missing"),
    "test-missing": (TEST_FILE, lambda p: p.unlink(), "is missing"),
    "empty": (TRAIN_FILE, lambda p: p.write_bytes(b""), "is empty"),
    "truncated": (TRAIN_FILE, _truncate, "not a readable HDF5"),
    "text-file": (TEST_FILE, lambda p: p.write_text("x,y\n1,2\n"), "not a readable HDF5"),
    "no-x": (TRAIN_FILE, lambda p: _replace(p, x=None), "no dataset 'train_set_x'"),
    "no-y": (TEST_FILE, lambda p: _replace(p, y=None), "no dataset 'test_set_y'"),
    "no-classes": (TRAIN_FILE, lambda p: _replace(p, list_classes=None), "'list_classes'"),
    "x-int16": (
        TRAIN_FILE,
        lambda p: _replace(p, x=np.zeros((12, 64, 64, 3), np.int16)),
        "dtype int16",
    ),
    "x-float": (
        TEST_FILE,
        lambda p: _replace(p, x=np.full((6, 64, 64, 3), np.nan, np.float32)),
        "dtype float32",
    ),
    "x-3d": (TRAIN_FILE, lambda p: _replace(p, x=np.zeros((12, 64, 64), np.uint8)), "shape"),
    "x-rgba": (TRAIN_FILE, lambda p: _replace(p, x=np.zeros((12, 64, 64, 4), np.uint8)), "shape"),
    "x-empty": (TEST_FILE, lambda p: _replace(p, x=np.zeros((0, 64, 64, 3), np.uint8)), "shape"),
    "y-float": (TRAIN_FILE, lambda p: _replace(p, y=np.zeros(12, np.float64)), "integers"),
    "y-2d": (TRAIN_FILE, lambda p: _replace(p, y=np.zeros((2, 6), np.int64)), "shape (2, 6)"),
    "label-too-big": (TRAIN_FILE, lambda p: _replace(p, y=np.full(12, 6)), "label 6"),
    "label-negative": (TEST_FILE, lambda p: _replace(p, y=np.full(6, -1)), "label -1"),
    "counts-disagree": (TRAIN_FILE, lambda p: _replace(p, y=np.zeros(11, np.int64)), "11 labels"),
    "classes-2d": (
        TRAIN_FILE,
        lambda p: _replace(p, list_classes=np.zeros((2, 3), np.int64)),
        "list_classes has shape",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_raises_one_clear_error(tmp_path, case):
    name, damage, problem = BROKEN[case]
    folder = write_original_pair(tmp_path / "signs")
    damage(folder / name)
    with pytest.raises(SignsDataError) as info:
        load_dataset(folder)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert problem in message
    assert str(folder / name) in message
    assert "make data" in message and "SIGNS_DATA_DIR" in message


def test_explicit_empty_folder_is_reported_not_built(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(SignsDataError, match="is missing") as info:
        load_dataset(folder)
    assert str(folder / TRAIN_FILE) in str(info.value)
    assert listing(folder) == [] and capsys.readouterr().out == ""


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(SignsDataError, match="does not exist") as info:
        load_dataset(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value) and "make data" in str(info.value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"x": np.zeros((6, 32, 32, 3), np.uint8)}, "different sizes"),
        ({"list_classes": np.arange(5), "y": np.zeros(6, np.int64)}, "different classes"),
    ],
)
def test_train_and_test_files_must_agree(tmp_path, change, problem):
    folder = write_original_pair(tmp_path / "signs")
    _replace(folder / TEST_FILE, **change)
    with pytest.raises(SignsDataError, match=problem) as info:
        load_dataset(folder)
    assert str(folder / TRAIN_FILE) in str(info.value) and "make data" in str(info.value)


def test_extra_datasets_are_ignored(tmp_path):
    folder = write_original_pair(tmp_path / "signs")
    with h5py.File(folder / TRAIN_FILE, "a") as f:
        f["file_numbers"] = np.arange(12)
        f.attrs["note"] = "extra"
    assert load_dataset(folder)[0].shape == (12, 64, 64, 3)


# ---------------------------------------------------------------------------------------------
# convert_to_one_hot


def test_convert_to_one_hot_matches_the_original():
    Y = np.array([[1, 0, 5, 2]])
    one_hot = convert_to_one_hot(Y, 6)
    assert one_hot.shape == (6, 4) and one_hot.dtype == np.float64
    np.testing.assert_array_equal(one_hot, np.eye(6)[Y.reshape(-1)].T)
    assert one_hot[:, 2].tolist() == [0, 0, 0, 0, 0, 1]
    np.testing.assert_array_equal(convert_to_one_hot(Y[0], 6), one_hot)
    np.testing.assert_array_equal(convert_to_one_hot(Y.astype(np.float32), 6), one_hot)
    assert convert_to_one_hot(np.zeros((1, 0), np.int64), 3).shape == (3, 0)


@pytest.mark.parametrize(
    ("Y", "C", "problem"),
    [
        (np.array([[0, 6]]), 6, "label 6 at index 1 is outside 0..5"),
        (np.array([[-1, 2]]), 6, "label -1 at index 0"),
        (np.array([[0.5, 1.0]]), 6, "integers"),
        (np.array([["a", "b"]]), 6, "integers"),
        (np.array([[0, 1]]), 0, "positive integer"),
        (np.array([[0, 1]]), 2.0, "positive integer"),
    ],
)
def test_convert_to_one_hot_rejects_bad_labels(Y, C, problem):
    with pytest.raises(ValueError, match=problem):
        convert_to_one_hot(Y, C)
