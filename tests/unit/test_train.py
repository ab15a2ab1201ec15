"""The training loop: checkpoints every epoch, resumes after interruption, refuses bad state, and
trains one device through the same tf.data loop as several.

The tests train a small network, eagerly: the loop's logic without ResNet-50's build and step
time, nor the time of tracing a step. The course's ResNet-50 itself trains a step and writes its
checkpoint in chapter 05 under ``pytest --nbval``, which compares the checkpoint's listing with the
stored one."""

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
from training_helpers import TINY, write_signs
from training_helpers import train_eagerly as _train

from course_utils.data import pipeline as data_pipeline
from course_utils.training import checkpoints
from course_utils.training.checkpoints import STATE_FILE, latest_checkpoint
from course_utils.training.train import TrainOptions, train


@pytest.fixture(scope="module")
def signs(tmp_path_factory):
    return write_signs(tmp_path_factory.mktemp("signs"))


def test_training_resumes_from_the_last_complete_epoch(signs, tmp_path):
    out = tmp_path / "run"
    _, history = _train(TINY, out, signs, max_epochs=1)
    assert len(history["loss"]) == 1
    assert latest_checkpoint(out).name == "epoch-0001"

    # An interrupted write of epoch 2 leaves only a .partial folder: it is ignored.
    (out / "epoch-0002.partial").mkdir()
    assert latest_checkpoint(out).name == "epoch-0001"

    _, history = _train(TINY, out, signs)
    assert len(history["loss"]) == 3
    assert sorted(p.name for p in out.iterdir()) == ["epoch-0003", "history.json"]
    saved = json.loads((out / "history.json").read_text())
    assert saved["loss"] == history["loss"] and saved["recipe"] == "tiny"
    assert np.isfinite(history["val_accuracy"]).all()


def test_a_removal_cut_short_leaves_no_folder_that_looks_complete(signs, tmp_path, monkeypatch):
    """Killed while deleting the previous epoch's files, training leaves that folder marked
    partial: resuming never takes a half-deleted checkpoint for a complete one."""
    out = tmp_path / "run"
    _train(TINY, out, signs, max_epochs=1)

    def killed_midway(folder, ignore_errors=False):
        folder = Path(folder)
        if folder.exists():
            (folder / STATE_FILE).unlink()
            raise KeyboardInterrupt("killed while removing " + folder.name)

    monkeypatch.setattr(checkpoints.shutil, "rmtree", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        _train(TINY, out, signs, max_epochs=2)
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == [
        "epoch-0001.partial",
        "epoch-0002",
        "history.json",
    ]
    assert latest_checkpoint(out).name == "epoch-0002"

    _, history = _train(TINY, out, signs)
    assert len(history["loss"]) == 3
    assert sorted(p.name for p in out.iterdir()) == ["epoch-0003", "history.json"]


def test_resumed_run_continues_the_optimizer_state(signs, tmp_path):
    out = tmp_path / "run"
    _train(TINY, out, signs, max_epochs=2)
    state = json.loads((latest_checkpoint(out) / "state.json").read_text())
    assert state["epoch"] == 2
    with np.load(latest_checkpoint(out) / "optimizer.npz", allow_pickle=False) as saved:
        iterations = int(saved["arr_0"])
    assert iterations == 2 * 2  # two epochs of ceil(24 / 12) steps


def test_checkpoint_of_another_recipe_is_refused(signs, tmp_path):
    out = tmp_path / "run"
    _train(TINY, out, signs, max_epochs=1)
    other = dataclasses.replace(TINY, learning_rate=0.5)
    with pytest.raises(ValueError, match="another --out folder"):
        _train(other, out, signs)


def test_diverging_training_stops_with_a_clear_error(signs, tmp_path):
    diverging = dataclasses.replace(TINY, name="diverging", learning_rate=1e38, weight_decay=0.0)
    with pytest.raises(FloatingPointError, match="Lower the learning rate"):
        _train(diverging, tmp_path / "run", signs)
    assert latest_checkpoint(tmp_path / "run") is None


def test_one_device_trains_and_resumes_through_the_default_strategy_loop(
    signs, tmp_path, monkeypatch
):
    """Without a strategy, train uses TensorFlow's default one and the tf.data pipeline (no image
    dropped); a run resumed after epoch 1 reproduces the uninterrupted run, also when the resumed
    call names the default strategy and streams the files."""
    batches = []

    def spy(examples, global_batch_size, **kwargs):
        batches.append((global_batch_size, kwargs["first_epoch"], kwargs["last_epoch"]))
        assert kwargs["drop_remainder"] is False
        return training_batches(examples, global_batch_size, **kwargs)

    training_batches = data_pipeline.training_batches
    monkeypatch.setattr(data_pipeline, "training_batches", spy)
    recipe = dataclasses.replace(TINY, augment=False)  # no random augmentation: exact replay
    _, whole = _train(recipe, tmp_path / "whole", signs)
    _train(recipe, tmp_path / "pieces", signs, max_epochs=1)
    default = tf.distribute.get_strategy()
    _, resumed = _train(recipe, tmp_path / "pieces", signs, strategy=default, stream=True)

    assert batches == [(12, 0, 3), (12, 0, 1), (12, 1, 3)]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(resumed[key], whole[key], atol=1e-6, err_msg=key)
    state = json.loads((latest_checkpoint(tmp_path / "pieces") / "state.json").read_text())
    assert state["epoch"] == 3 and state["recipe"] == dataclasses.asdict(recipe)


def test_eager_steps_are_refused_on_several_replicas(tmp_path):
    """Checked first, before any data is read (tests/system/test_distribute.py checks it with a
    real MirroredStrategy of 2 replicas)."""
    two_replicas = SimpleNamespace(num_replicas_in_sync=2)
    options = TrainOptions(data_dir=tmp_path / "absent", strategy=two_replicas, run_eagerly=True)
    with pytest.raises(ValueError, match="run_eagerly is for training on one replica"):
        train(TINY, tmp_path / "run", options)
    assert not (tmp_path / "run").exists()


def test_options_are_one_frozen_object_with_the_defaults_of_a_plain_run():
    options = TrainOptions()
    assert (options.strategy, options.verbose, options.run_eagerly) == (None, 1, False)
    assert options.scale_learning_rate and not (options.stream or options.sync_batchnorm)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.verbose = 0


def test_training_validates_on_held_out_signers_and_their_mirror_images_never_the_test_split(
    tmp_path,
):
    signs = write_signs(tmp_path / "signs")
    (signs / "test_signs.h5").write_bytes(b"the test split is not read while training")
    _, history = _train(TINY, tmp_path / "run", signs, max_epochs=1)
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "val_mirrored_accuracy"}
    assert 0.0 <= history["val_mirrored_accuracy"][0] <= 1.0


def test_tensorboard_logs_every_epoch_of_training_and_validation(signs, tmp_path):
    _train(TINY, tmp_path / "run", signs, max_epochs=2, tensorboard_dir=tmp_path / "logs")
    for part in ("train", "validation"):
        assert list((tmp_path / "logs" / part).glob("events.out.tfevents.*")), part


def test_mirrored_validation_accuracy_reads_the_mirror_images_of_the_validation_batches():
    import keras

    from course_utils.training.train import MirroredValidationAccuracy

    inputs = keras.Input((4, 4, 3))
    left = keras.ops.mean(inputs[:, :, :2], axis=(1, 2, 3))
    right = keras.ops.mean(inputs[:, :, 2:], axis=(1, 2, 3))
    brighter_left = keras.ops.cast(left > right, "float32")[:, None]
    network = keras.Model(inputs, keras.ops.concatenate([1 - brighter_left, brighter_left], 1))
    images = np.zeros((3, 4, 4, 3), dtype="float32")
    images[:, :, :2] = 1.0  # brighter on the left: read as class 1
    labels = np.array([[0, 1], [0, 1], [1, 0]], dtype="float32")  # 2 of 3 right, unmirrored
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)
    logs = {}
    MirroredValidationAccuracy(network, batches).on_epoch_end(0, logs)
    assert logs["val_mirrored_accuracy"] == pytest.approx(1 / 3)  # mirrored: all read as 0


def test_a_run_can_start_from_given_weights(signs, tmp_path):
    from training_helpers import small_network

    start = small_network((64, 64, 3), 6)
    dense = start.layers[-1]
    dense.set_weights([np.full_like(w, 0.25) for w in dense.get_weights()])
    start.save_weights(tmp_path / "start.weights.h5")
    frozen = dataclasses.replace(TINY, learning_rate=0.0, weight_decay=0.0)
    resnet, _ = _train(
        frozen, tmp_path / "run", signs, max_epochs=1, initial_weights=tmp_path / "start.weights.h5"
    )
    np.testing.assert_array_equal(resnet.layers[-1].get_weights()[0], dense.get_weights()[0])
