"""Killed at any moment, data preparation and training leave nothing half-written: the data cache
and the checkpoints are complete and valid or absent, and training resumes from the last complete
epoch. Each test kills a real process with SIGKILL at random moments, several times.

Data preparation is killed at random moments within the time one whole run takes on this machine,
measured first. Training is killed at moments measured in its own epochs, not in seconds: once a
run has completed two epochs (the first includes its start-up), it is killed a random fraction of
an epoch's time later. So every kill lands inside a run (for training, after progress: training,
validating, writing or renaming a checkpoint, removing the previous one), on a fast machine as on
one ten times slower.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import training_helpers
from data_helpers import (
    assert_same_arrays,
    data_command,
    read_arrays,
    session_build,
    session_source_copy,
)
from training_helpers import TINY_EPOCHS as EPOCHS
from training_helpers import train_tiny, write_signs

from course_utils.data.build import LOCK_FILE, STAMP_FILE, cache_is_current, ensure_signs_data
from course_utils.data.paths import TEST_FILE, TRAIN_FILE
from course_utils.training.checkpoints import (
    CHECKPOINT_PREFIX,
    PARTIAL_SUFFIX,
    STATE_FILE,
    WEIGHTS_FILE,
)

KILLS = 5
TRAINING_KILLS = 3
POLL_S = 0.01


def run_and_kill(command: list[str], delay_s: float, **kwargs) -> bool:
    """Start ``command``, SIGKILL it after ``delay_s`` seconds if it is still running.

    Returns:
        Whether it was killed (False: it had finished).
    """
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs
    )
    try:
        process.wait(timeout=delay_s)
        return False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True


def test_killed_data_preparation_leaves_a_valid_cache_or_none(tmp_path_factory, tmp_path):
    source = session_source_copy(tmp_path_factory)
    expected = read_arrays(session_build(tmp_path_factory))
    out = tmp_path / "signs"

    def prepare(folder: Path) -> list[str]:
        return data_command(
            "prepare", "--source", str(source), "--out", str(folder), "--no-progress", "--force"
        )

    # How long one whole run takes here (into another folder): the kills land within that time,
    # on a fast machine as on a slow one.
    started = time.perf_counter()
    subprocess.run(prepare(tmp_path / "timing"), check=True, capture_output=True)
    run_s = time.perf_counter() - started
    command = prepare(out)
    rng = random.Random(0)
    killed = 0
    for _ in range(KILLS):
        killed += run_and_kill(command, rng.uniform(0.0, 0.9 * run_s))
        if cache_is_current(out):
            assert_same_arrays(read_arrays(out), expected)
        else:  # the build died: whatever is there is not taken for a cache
            assert not cache_is_current(out)
    assert killed > 0, f"every run finished before its kill (a whole run takes {run_s:.1f} s)"
    ensure_signs_data(out, source)
    assert cache_is_current(out)
    assert_same_arrays(read_arrays(out), expected)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [TRAIN_FILE, TEST_FILE, STAMP_FILE, LOCK_FILE]
    )


def complete_checkpoints(out) -> list:
    return sorted(
        p for p in out.iterdir() if p.name.startswith(CHECKPOINT_PREFIX)
        and not p.name.endswith(PARTIAL_SUFFIX)
    )  # fmt: skip


def newest_epoch(out: Path) -> int:
    """The epoch of the newest complete checkpoint in ``out``, 0 if none."""
    if not out.exists():
        return 0
    names = [p.name for p in complete_checkpoints(out)]
    return max((int(name[len(CHECKPOINT_PREFIX) :]) for name in names), default=0)


def train_and_kill_within_an_epoch(out: Path, data: Path, rng: random.Random, log: Path) -> None:
    """Start ``train_tiny`` in a process of its own, wait until it completes two epochs (the
    first includes start-up), then SIGKILL it a random fraction of an epoch's time later."""
    before = newest_epoch(out)
    log.write_text("")
    # Its own TMPDIR: a killed run leaves the files autograph wrote there behind.
    env = {**os.environ, "TMPDIR": str(log.parent)}
    command = [sys.executable, training_helpers.__file__, str(out), str(data)]
    with log.open("ab") as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        started = time.perf_counter()
        while newest_epoch(out) == before and process.poll() is None:
            time.sleep(POLL_S)
        reached = time.perf_counter()
        while newest_epoch(out) <= before + 1 and process.poll() is None:
            time.sleep(POLL_S)
        # The first epoch's time includes start-up; the second's is one epoch of training.
        epoch_s = time.perf_counter() - reached if process.poll() is None else reached - started
        time.sleep(rng.uniform(0.0, epoch_s))
    finally:
        process.kill()
        process.wait()
    if process.returncode > 0:
        pytest.fail(f"training stopped with status {process.returncode}:\n{log.read_text()}")


def assert_complete_and_readable(checkpoint: Path) -> None:
    state = json.loads((checkpoint / STATE_FILE).read_text())
    assert state["epoch"] == int(checkpoint.name[len(CHECKPOINT_PREFIX) :])
    assert len(state["history"]["loss"]) == state["epoch"]
    with np.load(checkpoint / "optimizer.npz", allow_pickle=False) as saved:
        assert len(saved.files) > 0
    with h5py.File(checkpoint / WEIGHTS_FILE, "r") as weights:
        assert len(weights.keys()) > 0


def test_killed_training_keeps_complete_checkpoints_and_resumes_from_the_last(tmp_path):
    data = write_signs(tmp_path / "signs", n_train=36, n_test=12)
    out = tmp_path / "run"
    rng = random.Random(1)
    epochs_seen = []
    for _ in range(TRAINING_KILLS):
        train_and_kill_within_an_epoch(out, data, rng, tmp_path / "stderr.txt")
        checkpoints = complete_checkpoints(out)
        for checkpoint in checkpoints:  # every complete checkpoint is whole and readable
            assert_complete_and_readable(checkpoint)
        epochs_seen.append(newest_epoch(out))
    # Every run completed at least one epoch before it was killed, and none was lost.
    assert all(b > a for a, b in zip([0, *epochs_seen], epochs_seen, strict=False)), epochs_seen
    assert epochs_seen[-1] < EPOCHS, "training finished before the last kill: add epochs"

    train_tiny(out, data)  # resumed here, in this process (which saves starting TensorFlow)
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == EPOCHS  # one entry per epoch: no epoch lost or repeated
    last = f"{CHECKPOINT_PREFIX}{EPOCHS:04d}"
    assert [p.name for p in complete_checkpoints(out)] == [last]
    assert_complete_and_readable(out / last)
