"""The input pipeline: one preprocessing function; in-memory and streamed data give the same
batches; epochs are shuffled by seed and epoch, so a resumed run sees the same batches."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from data_helpers import original_signs, write_original_pair, write_signs_file
from training_helpers import write_signs

from course_utils.data import pipeline as data_pipeline
from course_utils.data.errors import SignsDataError
from course_utils.data.paths import TRAIN_FILE
from course_utils.resnets_utils import (
    convert_to_one_hot,
    load_dataset,
    validation_split_positions,
)

ONE_SIGNER = {"validation_signers": 1}  # of the 8 complete signers of the 50 images below


@pytest.fixture(scope="module")
def signs(tmp_path_factory):
    return write_signs(tmp_path_factory.mktemp("signs"), n_train=50, n_test=12)


def preprocessed_training_set(signs) -> tuple[np.ndarray, np.ndarray]:
    """The training images (m, 64, 64, 3) and one-hot labels (m, 6) as `preprocess` makes them."""
    X_orig, Y_orig, _, _, classes = load_dataset(signs)
    return data_pipeline.preprocess(X_orig, Y_orig, len(classes))


def _arrays(dataset) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def _assert_same_batches(a, b):
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_scale_images_is_the_course_scaling_and_refuses_already_scaled_images():
    x = np.array([[[[0, 128, 255]]]], dtype=np.uint8)
    scaled = data_pipeline.scale_images(x)
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, (x / 255.0).astype("float32"))
    np.testing.assert_allclose(scaled, [[[[0, 128 / 255, 1]]]])
    assert data_pipeline.scale_images(x, "float64").dtype == np.float64
    with pytest.raises(ValueError, match="must be uint8"):
        data_pipeline.scale_images(scaled)


def test_preprocess_is_the_course_scaling_and_one_hot(signs):
    X_orig, Y_orig, X_test_orig, Y_test_orig, classes = load_dataset(signs)
    X, Y = data_pipeline.preprocess(X_orig, Y_orig, len(classes))
    assert X.dtype == Y.dtype == np.float32
    np.testing.assert_array_equal(X, (X_orig / 255.0).astype("float32"))
    np.testing.assert_array_equal(Y, convert_to_one_hot(Y_orig, 6).T.astype("float32"))
    X_test, _ = data_pipeline.preprocess(X_test_orig, Y_test_orig, len(classes))
    np.testing.assert_array_equal(X_test, (X_test_orig / 255.0).astype("float32"))
    with pytest.raises(ValueError, match="must be uint8"):
        data_pipeline.preprocess(X, Y_orig, 6)  # already scaled


@pytest.mark.parametrize("shuffle", [False, True])
def test_streamed_files_and_memory_give_identical_batches(signs, shuffle):
    in_memory, memory_validation = data_pipeline.train_validation_examples(signs, **ONE_SIGNER)
    streamed, streamed_validation = data_pipeline.train_validation_examples(
        signs, stream=True, chunk_size=7, **ONE_SIGNER
    )
    assert (streamed.count, streamed.image_shape, streamed.n_classes) == (44, (64, 64, 3), 6)
    assert memory_validation.count == streamed_validation.count == 6
    assert in_memory.count == streamed.count

    def batches(examples):
        dataset = data_pipeline.training_batches(
            examples, 8, seed=3, first_epoch=0, last_epoch=2, shuffle=shuffle
        )
        return _arrays(dataset)

    memory_batches = batches(in_memory)
    assert [len(x) for x, _ in memory_batches] == [8] * 5 + [4] + [8] * 5 + [4]
    _assert_same_batches(memory_batches, batches(streamed))
    _assert_same_batches(
        _arrays(data_pipeline.evaluation_batches(memory_validation, 5)),
        _arrays(data_pipeline.evaluation_batches(streamed_validation, 5)),
    )
    # The examples are the course's preprocessed arrays, in stored order, split by signer.
    X, Y = preprocessed_training_set(signs)
    train, validation = validation_split_positions(signs, n_signers=1)
    ((x, y),) = _arrays(in_memory.dataset.batch(50))
    np.testing.assert_array_equal(x, X[train])
    np.testing.assert_array_equal(y, Y[train])
    ((x, y),) = _arrays(memory_validation.dataset.batch(50))
    np.testing.assert_array_equal(x, X[validation])
    assert sorted(y.argmax(axis=1)) == list(range(6))  # one signer: each digit once


def test_each_epoch_has_its_own_order_and_a_resumed_run_sees_the_same_batches(signs):
    examples, _ = data_pipeline.train_validation_examples(signs, **ONE_SIGNER)
    whole = _arrays(data_pipeline.training_batches(examples, 11, seed=1, last_epoch=3))
    resumed = _arrays(
        data_pipeline.training_batches(examples, 11, seed=1, first_epoch=2, last_epoch=3)
    )
    assert len(whole) == 12
    _assert_same_batches(whole[8:], resumed)
    assert not np.array_equal(whole[0][0], whole[4][0])  # epochs 0 and 1 are ordered differently
    # An epoch holds every training example once.
    epoch = np.concatenate([x for x, _ in whole[:4]]).reshape(44, -1)
    train, _ = validation_split_positions(signs, n_signers=1)
    X_train = preprocessed_training_set(signs)[0][train].reshape(44, -1)
    assert sorted(map(bytes, epoch)) == sorted(map(bytes, X_train))


def test_drop_remainder_and_steps_per_epoch(signs):
    examples, _ = data_pipeline.train_validation_examples(signs, max_train_images=30, **ONE_SIGNER)
    assert examples.count == 30
    dropped = _arrays(data_pipeline.training_batches(examples, 8, drop_remainder=True))
    assert [len(x) for x, _ in dropped] == [8, 8, 8]
    assert data_pipeline.steps_per_epoch(30, 8, drop_remainder=True) == 3
    assert data_pipeline.steps_per_epoch(30, 8, drop_remainder=False) == 4


def test_a_bad_file_is_named_before_streaming(signs, tmp_path):
    with pytest.raises(SignsDataError, match="is missing"):
        data_pipeline.file_examples(tmp_path / TRAIN_FILE, "train")
    bad = tmp_path / TRAIN_FILE
    with h5py.File(bad, "w") as f:
        f["train_set_x"] = np.zeros((4, 8, 8, 3), dtype=np.float32)
        f["train_set_y"] = np.zeros(4, dtype=np.int64)
        f["list_classes"] = np.arange(6)
    with pytest.raises(SignsDataError, match="dtype float32; SIGNS images are uint8"):
        data_pipeline.file_examples(bad, "train")


@pytest.mark.parametrize(
    "change",
    [
        {"x": np.zeros((12, 64, 64, 3), np.float32)},
        {"y": np.full(12, 6)},
        {"y": np.zeros(11, np.int64)},
        {"list_classes": None},
    ],
    ids=["float-images", "label-out-of-range", "counts-disagree", "no-classes"],
)
def test_streaming_and_load_dataset_report_a_bad_file_alike(tmp_path, change):
    folder = write_original_pair(tmp_path / "signs")
    arrays = {**original_signs(12, seed=0), **change}
    write_signs_file(
        folder / TRAIN_FILE, "train", **{k: v for k, v in arrays.items() if v is not None}
    )
    with pytest.raises(SignsDataError) as loaded:
        load_dataset(folder)
    with pytest.raises(SignsDataError) as streamed:
        data_pipeline.train_validation_examples(folder, stream=True)
    assert str(streamed.value) == str(loaded.value)
    assert str(folder / TRAIN_FILE) in str(streamed.value)
