"""The training command: checkpoints every epoch, resumes after interruption, refuses bad state.

The tests train a small network, eagerly: the loop's logic without ResNet-50's build and step
time, nor the time of tracing a step. The course's ResNet-50 itself trains a step and writes its
checkpoint in chapter 05 under ``pytest --nbval``, which compares the checkpoint's listing with the
stored one."""

import dataclasses
import json

import numpy as np
import pytest
from training_helpers import TINY, write_signs
from training_helpers import train_eagerly as _train

from course_utils.training import train
from course_utils.training.train import latest_checkpoint


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


def test_eager_steps_are_refused_with_a_strategy(signs, tmp_path):
    with pytest.raises(ValueError, match="run_eagerly is for training on one device"):
        train.train(TINY, tmp_path / "run", data_dir=signs, run_eagerly=True, stream=True)
