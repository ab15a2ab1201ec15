"""Killed at any moment, data preparation and training leave nothing half-written: the data cache
and the checkpoints are complete and valid or absent, and training resumes from the last complete
epoch. Each test kills a real subprocess with SIGKILL at random moments, several times."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from data_helpers import assert_same_arrays, read_arrays, session_build, session_source_copy

from course_utils import signs_dataset
from course_utils.paths import TEST_FILE, TRAIN_FILE
from course_utils.train import CHECKPOINT_PREFIX, PARTIAL_SUFFIX, STATE_FILE, WEIGHTS_FILE

KILLS = 5


def run_and_kill(command: list[str], delay_s: float, **kwargs) -> None:
    """Start ``command``, SIGKILL it after ``delay_s`` seconds (if it is still running)."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs
    )
    try:
        process.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_killed_data_preparation_leaves_a_valid_cache_or_none(tmp_path_factory, tmp_path):
    source = session_source_copy(tmp_path_factory)
    expected = read_arrays(session_build(tmp_path_factory))
    out = tmp_path / "signs"
    command = [
        sys.executable, "-m", "course_utils.signs_dataset", "prepare", "--source", str(source),
        "--out", str(out), "--no-progress", "--force",
    ]  # fmt: skip
    rng = random.Random(0)
    for _ in range(KILLS):
        run_and_kill(command, rng.uniform(0.5, 4.0))
        if signs_dataset.cache_is_current(out):
            assert_same_arrays(read_arrays(out), expected)
        else:  # the build died: whatever is there is not taken for a cache
            assert not signs_dataset.cache_is_current(out)
    signs_dataset.ensure_signs_data(out, source)
    assert signs_dataset.cache_is_current(out)
    assert_same_arrays(read_arrays(out), expected)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [TRAIN_FILE, TEST_FILE, signs_dataset.STAMP_FILE, signs_dataset.LOCK_FILE]
    )


TRAINING = textwrap.dedent(
    """
    import dataclasses, sys
    sys.path.insert(0, sys.argv[3])
    from course_utils import train
    from test_train import small_network

    recipe = dataclasses.replace(train.QUICK, name="tiny", epochs=12, batch_size=6)
    train.train(recipe, sys.argv[1], data_dir=sys.argv[2], verbose=0, network=small_network)
    """
)


def complete_checkpoints(out) -> list:
    return sorted(
        p for p in out.iterdir() if p.name.startswith(CHECKPOINT_PREFIX)
        and not p.name.endswith(PARTIAL_SUFFIX)
    )  # fmt: skip


def test_killed_training_keeps_complete_checkpoints_and_resumes_from_the_last(tmp_path):
    from test_train import _write_signs

    data = _write_signs(tmp_path / "signs", n_train=36, n_test=12)
    out = tmp_path / "run"
    command = [sys.executable, "-c", TRAINING, str(out), str(data), str(Path(__file__).parent)]
    rng = random.Random(1)
    epochs_seen = []
    for _ in range(KILLS):
        run_and_kill(command, rng.uniform(4.0, 12.0))
        if not out.exists():
            continue
        checkpoints = complete_checkpoints(out)
        for checkpoint in checkpoints:  # every complete checkpoint is whole and readable
            state = json.loads((checkpoint / STATE_FILE).read_text())
            assert state["epoch"] == int(checkpoint.name[len(CHECKPOINT_PREFIX) :])
            assert len(state["history"]["loss"]) == state["epoch"]
            with np.load(checkpoint / "optimizer.npz", allow_pickle=False) as saved:
                assert len(saved.files) > 0
            with h5py.File(checkpoint / WEIGHTS_FILE, "r") as weights:
                assert len(weights.keys()) > 0
        if checkpoints:
            epochs_seen.append(int(checkpoints[-1].name[len(CHECKPOINT_PREFIX) :]))
    assert epochs_seen == sorted(epochs_seen)  # never back to an earlier epoch

    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    assert time.perf_counter() - started < 600
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 12  # one entry per epoch: no epoch lost or repeated
    assert [p.name for p in complete_checkpoints(out)] == [f"{CHECKPOINT_PREFIX}0012"]
    assert (out / f"{CHECKPOINT_PREFIX}0012" / WEIGHTS_FILE).is_file()
    if not epochs_seen:
        pytest.fail("no kill happened after the first epoch: lengthen the delays")
