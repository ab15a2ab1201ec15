"""Per-epoch training checkpoints that survive interruption, and resuming from the newest one.

Each epoch is written to `epoch-NNNN.partial/` (model weights, optimizer state, the recipe and
the history so far) and then renamed to `epoch-NNNN/`; a rename is atomic, so a folder without
`.partial` is complete. Older epochs are removed once a newer one is complete: each is first
renamed back to `epoch-NNNN.partial/`, so a removal cut short never leaves a folder that looks
complete. Nothing is pickled:
weights are HDF5, the optimizer state is a NumPy `.npz` read with `allow_pickle=False`, the rest
is JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np

from course_utils.atomic_files import fsync
from course_utils.training.recipes import Recipe

CHECKPOINT_PREFIX = "epoch-"
PARTIAL_SUFFIX = ".partial"
WEIGHTS_FILE = "model.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
STATE_FILE = "state.json"


def checkpoint_path(out_dir: Path | str, epoch: int) -> Path:
    """The folder of the complete checkpoint of epoch `epoch` (1-based) in out_dir."""
    return Path(out_dir) / f"{CHECKPOINT_PREFIX}{epoch:04d}"


def latest_checkpoint(out_dir: Path | str) -> Path | None:
    """The newest complete `epoch-NNNN` folder in out_dir, or None."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return None
    complete = [
        p
        for p in out_dir.iterdir()
        if p.is_dir()
        and p.name.startswith(CHECKPOINT_PREFIX)
        and not p.name.endswith(PARTIAL_SUFFIX)
    ]
    return max(complete, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX) :]), default=None)


def save_checkpoint(
    out_dir: Path | str, epoch: int, resnet, trainer, history: dict, recipe: Recipe
) -> Path:
    """Write epoch `epoch` (1-based, completed) atomically and remove older checkpoints.

    Args:
        resnet: the network whose weights are saved.
        trainer: the compiled model that trains it; its optimizer's state is saved.
        history: the per-epoch lists of every metric so far.
        recipe: the recipe being trained, as given (stored to refuse resuming another one).

    Returns:
        The checkpoint's folder.
    """
    out_dir = Path(out_dir)
    final = checkpoint_path(out_dir, epoch)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    resnet.save_weights(partial / WEIGHTS_FILE)
    optimizer_values = [keras.ops.convert_to_numpy(v) for v in trainer.optimizer.variables]
    np.savez(partial / OPTIMIZER_FILE, *optimizer_values)
    state = {"epoch": epoch, "recipe": dataclasses.asdict(recipe), "history": history}
    (partial / STATE_FILE).write_text(json.dumps(state, indent=1))
    _fsync_dir(partial)
    os.replace(partial, final)
    _fsync_dir(out_dir)
    for old in out_dir.iterdir():
        if old.name.startswith(CHECKPOINT_PREFIX) and old != final:
            _remove_checkpoint(old)
    return final


def _remove_checkpoint(folder: Path) -> None:
    """Delete a checkpoint folder, complete or partial, marking it partial first."""
    if not folder.name.endswith(PARTIAL_SUFFIX):
        doomed = folder.with_name(folder.name + PARTIAL_SUFFIX)
        shutil.rmtree(doomed, ignore_errors=True)
        os.replace(folder, doomed)
        folder = doomed
    shutil.rmtree(folder, ignore_errors=True)


def _fsync_dir(path: Path):
    """Flush every file of a folder, then the folder's own entries (its renames), to disk."""
    for file in path.iterdir():
        if file.is_file():
            fsync(file)
    fsync(path)


def restore_checkpoint(checkpoint: Path | str, resnet, trainer) -> dict:
    """Load weights and optimizer state from a complete checkpoint; return its state dict
    (`epoch`, `recipe`, `history`).

    Raises:
        ValueError: the checkpoint's optimizer state does not fit the trainer's optimizer.
    """
    checkpoint = Path(checkpoint)
    state = json.loads((checkpoint / STATE_FILE).read_text())
    resnet.load_weights(checkpoint / WEIGHTS_FILE)
    trainer.optimizer.build(trainer.trainable_variables)
    with np.load(checkpoint / OPTIMIZER_FILE, allow_pickle=False) as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    variables = trainer.optimizer.variables
    if len(values) != len(variables):
        raise ValueError(
            f"{checkpoint / OPTIMIZER_FILE} holds {len(values)} optimizer variables, the recipe "
            f"needs {len(variables)}: it was written by another recipe. Use another --out folder."
        )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
    return state


def resume(out_dir: Path | str, resnet, trainer, recipe: Recipe) -> tuple[dict, int]:
    """Restore the newest complete checkpoint in out_dir, if there is one.

    Call it in the scope of the strategy that built the models (the optimizer's variables are
    created there).

    Returns:
        (history, initial_epoch): the per-epoch lists and the number of epochs completed;
        ({}, 0) when out_dir holds no complete checkpoint (a fresh run).

    Raises:
        ValueError: the checkpoint was written by another recipe.
    """
    checkpoint = latest_checkpoint(out_dir)
    if checkpoint is None:
        return {}, 0
    state = restore_checkpoint(checkpoint, resnet, trainer)
    if state["recipe"] != dataclasses.asdict(recipe):
        raise ValueError(
            f"{checkpoint} was written by recipe {state['recipe']['name']!r} with other "
            f"settings; train {recipe.name!r} into another --out folder or delete {out_dir}."
        )
    return state["history"], state["epoch"]
