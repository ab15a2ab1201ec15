"""Training recipes for the course ResNet-50, with per-epoch checkpoints that survive interruption.

Command line (a progress bar per epoch; resumes from the last complete epoch in --out):

    python -m course_utils.training.train --out checkpoints/course            # the course recipe
    python -m course_utils.training.train --recipe original --out checkpoints/original
    python -m course_utils.training.train --quick --out /tmp/quick            # a smoke run for tests
    python -m course_utils.training.train --out checkpoints/course --export course_utils/assets/x.weights.h5
    python -m course_utils.training.train --strategy mirrored --out checkpoints/gpus     # every local GPU
    python -m course_utils.training.train --strategy mirrored --cpu-devices 2 --quick --out /tmp/two
    TF_CONFIG='{...}' python -m course_utils.training.train --strategy multi_worker --out /shared/run
    python -m course_utils.training.train --stream --out checkpoints/streamed  # data streamed from files

Checkpoints: each epoch is written to `epoch-NNNN.partial/` (model weights, optimizer state,
history) and then renamed to `epoch-NNNN/`; a rename is atomic, so a folder without `.partial` is
complete. Older epochs are removed once a newer one is complete. Nothing is pickled: weights are
HDF5, the optimizer state is a NumPy `.npz` read with `allow_pickle=False`, the rest is JSON.

Only `keras` APIs are used, so the same code trains with the TensorFlow backend (CPU) and the JAX
backend (GPU machines).

Several devices and machines (TensorFlow backend): `train(..., strategy=...)` takes a
`tf.distribute` strategy (`distributed.make_strategy("default" | "mirrored" | "multi_worker")`,
or `--strategy` on the command line). The models are built and compiled in `strategy.scope()`; the
data comes from the tf.data pipeline of `course_utils.data.pipeline` (in memory, or streamed from
the files with `stream=True` / `--stream`), which tf.distribute splits between the replicas.

* `Recipe.batch_size` is the batch of ONE replica (device). A step processes the global batch
  `batch_size x replicas`, so that each device's memory use does not depend on how many there are.
* The learning rate is scaled linearly with the number of replicas, `learning_rate x replicas`
  (the "linear scaling rule" of Goyal et al., 2017, that goes with the larger global batch; the
  course recipe's warm-up epochs keep its first steps small). `scale_learning_rate=False` (or
  `--no-lr-scaling`) keeps the recipe's rate.
* With several replicas each epoch drops its last, partial global batch (every replica gets a
  full batch); with one replica no image is dropped.
* Only the chief (worker 0, or the single process) writes checkpoints and `history.json` into
  `out_dir`; the other workers write theirs into a temporary folder that they delete. Every worker
  resumes from the chief's newest checkpoint, so on several machines `out_dir` must be a folder
  they all read (a shared file system). Checkpoints keep their format, and the recipe they store is
  the recipe as given (per-replica batch, unscaled learning rate).
* BatchNormalization computes its statistics per replica (and, in Keras 3, each replica keeps its
  own moving averages; checkpoints store the first replica's) unless `sync_batchnorm=True`
  (`--sync-batchnorm`), which all-reduces them over the replicas: the single-device statistics of
  the global batch. With it, 2 replicas reproduce the single-device losses (tests/system/test_distribute.py).
* MultiWorkerMirroredStrategy needs two small adjustments of Keras 3.15's `fit`, made here
  (`apply_multi_worker_fixes`).

Without a strategy (and outside any strategy scope) `train` keeps the single-device path of
before: the in-memory NumPy arrays go straight to `fit`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from course_utils.atomic_files import fsync, write_text_atomic
from course_utils.data import pipeline as data_pipeline
from course_utils.resnet import ResNet50
from course_utils.resnets_utils import load_dataset
from course_utils.training.augment import SignAugmentation
from course_utils.training.distributed import (
    STRATEGIES,
    apply_multi_worker_fixes,
    distributed_batch_and_learning_rate,
    finish_together,
    gather_from_workers,
    is_chief,
    make_strategy,
    strategy_in_scope,
    tensorflow_backend,
)

CHECKPOINT_PREFIX = "epoch-"
PARTIAL_SUFFIX = ".partial"
WEIGHTS_FILE = "model.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
STATE_FILE = "state.json"


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run, so that a run can be named and repeated."""

    name: str
    epochs: int
    batch_size: int = 32
    learning_rate: float = 1e-3
    cosine_decay: bool = True
    warmup_epochs: int = 0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    batchnorm_momentum: float = 0.99
    augment: bool = False
    seed: int = 0


# The original assignment: Adam 1e-3, 5 epochs, batch 32, no augmentation (reported 85.42%).
ORIGINAL = Recipe(name="original", epochs=5, cosine_decay=False)

# The course recipe. BatchNorm momentum 0.9 lets the inference statistics follow the weights
# (with 0.99 and 34 steps an epoch they lag ~10 epochs behind); cosine decay ends training with
# small steps so the statistics match the final weights; augmentation for photos from elsewhere.
COURSE = Recipe(
    name="course",
    epochs=80,
    learning_rate=2e-3,
    warmup_epochs=3,
    weight_decay=5e-4,
    label_smoothing=0.1,
    batchnorm_momentum=0.9,
    augment=True,
)

# A short run for tests and for the notebook's default in quick mode.
QUICK = dataclasses.replace(COURSE, name="quick", epochs=2, warmup_epochs=0)

RECIPES = {r.name: r for r in (ORIGINAL, COURSE, QUICK)}


def prepare_data(data_dir=None):
    """Load the SIGNS split and scale it as the course does everywhere.

    Returns:
        (X_train (1080, 64, 64, 3) float32 in [0, 1], Y_train (1080, 6) one-hot,
         X_test (120, 64, 64, 3) float32, Y_test (120, 6) one-hot)
    """
    X_train_orig, Y_train_orig, X_test_orig, Y_test_orig, classes = load_dataset(data_dir)
    n_classes = len(classes)
    # The one preprocessing function, shared with the tf.data pipeline (X / 255.0, one-hot).
    X_train, Y_train = data_pipeline.preprocess(X_train_orig, Y_train_orig, n_classes)
    X_test, Y_test = data_pipeline.preprocess(X_test_orig, Y_test_orig, n_classes)
    return X_train, Y_train, X_test, Y_test


def build_models(
    recipe: Recipe,
    steps_per_epoch: int,
    input_shape=(64, 64, 3),
    classes=6,
    network=ResNet50,
    run_eagerly: bool = False,
):
    """The network to ship and the compiled model that trains it (augmentation in front).

    Args:
        network: builds the network from (input_shape, classes); the course's ResNet50 by
            default (tests pass a small network to exercise the training loop quickly).
        run_eagerly: train step by step in Python instead of compiling the step into a graph.

    Returns:
        (resnet, trainer): `resnet` maps (m, 64, 64, 3) images in [0, 1] to (m, classes)
        probabilities; `trainer` shares its weights and adds the augmentation in training.
    """
    keras.utils.set_random_seed(recipe.seed)
    resnet = network(input_shape=input_shape, classes=classes)
    for layer in resnet.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = recipe.batchnorm_momentum

    inputs = keras.Input(input_shape)
    x = (
        SignAugmentation(seed=recipe.seed, name="augmentation")(inputs)
        if recipe.augment
        else inputs
    )
    trainer = keras.Model(inputs, resnet(x), name="trainer")
    trainer.compile(
        optimizer=_optimizer(recipe, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
        metrics=["accuracy"],
        run_eagerly=run_eagerly,
    )
    return resnet, trainer


def _optimizer(recipe: Recipe, steps_per_epoch: int):
    learning_rate = recipe.learning_rate
    if recipe.cosine_decay:
        total = recipe.epochs * steps_per_epoch
        warmup = recipe.warmup_epochs * steps_per_epoch
        learning_rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else recipe.learning_rate,
            decay_steps=max(total - warmup, 1),
            warmup_target=recipe.learning_rate if warmup else None,
            warmup_steps=warmup,
            alpha=0.0,
        )
    if recipe.weight_decay:
        return keras.optimizers.AdamW(learning_rate, weight_decay=recipe.weight_decay)
    return keras.optimizers.Adam(learning_rate)


def latest_checkpoint(out_dir: Path) -> Path | None:
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


def save_checkpoint(out_dir: Path, epoch: int, resnet, trainer, history: dict, recipe: Recipe):
    """Write epoch `epoch` (1-based, completed) atomically and remove older checkpoints."""
    out_dir = Path(out_dir)
    final = out_dir / f"{CHECKPOINT_PREFIX}{epoch:04d}"
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
            shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path):
    """Flush every file of a folder, then the folder's own entries (its renames), to disk."""
    for file in path.iterdir():
        if file.is_file():
            fsync(file)
    fsync(path)


def restore_checkpoint(checkpoint: Path, resnet, trainer) -> dict:
    """Load weights and optimizer state from a complete checkpoint; return its state dict."""
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


class _CheckpointEachEpoch(keras.callbacks.Callback):
    def __init__(self, out_dir, resnet, recipe, history):
        super().__init__()
        self.out_dir, self.resnet, self.recipe, self.history = out_dir, resnet, recipe, history

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise FloatingPointError(
                    f"{key} became {value} at epoch {epoch + 1}: training diverged. Lower the "
                    "learning rate (Recipe.learning_rate) and resume from the last checkpoint."
                )
            self.history.setdefault(key, []).append(round(float(value), 6))
        save_checkpoint(self.out_dir, epoch + 1, self.resnet, self.model, self.history, self.recipe)


def train(
    recipe: Recipe,
    out_dir,
    data_dir=None,
    verbose: int = 1,
    max_epochs: int | None = None,
    network=ResNet50,
    max_train_images: int | None = None,
    strategy=None,
    scale_learning_rate: bool = True,
    stream: bool = False,
    sync_batchnorm: bool = False,
    run_eagerly: bool = False,
):
    """Train (or resume) `recipe`, checkpointing every epoch into out_dir.

    Args:
        recipe: the training recipe.
        out_dir: folder for checkpoints and `history.json`.
        data_dir: SIGNS data folder (None: the course's default).
        verbose: 1 shows a progress bar per epoch, 0 is silent.
        max_epochs: stop after this many epochs in this call (the recipe's schedule is kept), so
            that a long run can be done in pieces.
        network: builds the network from (input_shape, classes) (default: ResNet50).
        max_train_images: train on the first this many training images only (a quick run).
        strategy: a `tf.distribute.Strategy` (see `make_strategy`) to train with; None: the
            strategy in scope (`tf.distribute.get_strategy()`), and outside any strategy scope the
            single-device path with in-memory arrays. With a strategy, `recipe.batch_size` is the
            batch of one replica (see the module docstring).
        scale_learning_rate: with a strategy, multiply the learning rate by the number of
            replicas (the global batch is that many times larger).
        stream: stream the data from the SIGNS files with tf.data instead of loading it (implies
            the tf.data path, with the default strategy if none is given).
        sync_batchnorm: with a strategy, BatchNormalization layers average their batch
            statistics over all replicas.
        run_eagerly: run the steps eagerly, without compiling them into a graph (one device
            only). For runs of a few steps: tracing ResNet-50's training step takes as long as
            about 1500 training images (25 s on a CPU that trains 65 images/s).

    Returns:
        (resnet, history): the trained model and a dict of per-epoch lists (loss, accuracy,
        val_loss, val_accuracy), the test split being the validation data.
    """
    strategy = strategy_in_scope(strategy)
    if strategy is not None or stream or sync_batchnorm:
        if run_eagerly:
            raise ValueError(
                "run_eagerly is for training on one device: leave it out with a strategy, "
                "stream=True or sync_batchnorm=True."
            )
        return _train_with_strategy(
            recipe, out_dir, data_dir, verbose, max_epochs, network, max_train_images,
            strategy, scale_learning_rate, stream, sync_batchnorm,
        )  # fmt: skip
    out_dir = Path(out_dir)
    X_train, Y_train, X_test, Y_test = prepare_data(data_dir)
    X_train, Y_train = X_train[:max_train_images], Y_train[:max_train_images]
    steps_per_epoch = math.ceil(len(X_train) / recipe.batch_size)
    resnet, trainer = build_models(
        recipe, steps_per_epoch, network=network, run_eagerly=run_eagerly
    )

    history: dict = {}
    initial_epoch = 0
    checkpoint = latest_checkpoint(out_dir)
    if checkpoint is not None:
        state = restore_checkpoint(checkpoint, resnet, trainer)
        if state["recipe"] != dataclasses.asdict(recipe):
            raise ValueError(
                f"{checkpoint} was written by recipe {state['recipe']['name']!r} with other "
                f"settings; train {recipe.name!r} into another --out folder or delete {out_dir}."
            )
        history, initial_epoch = state["history"], state["epoch"]
        if verbose:
            print(f"Resuming {recipe.name!r} after epoch {initial_epoch} from {checkpoint}")

    final_epoch = (
        recipe.epochs if max_epochs is None else min(recipe.epochs, initial_epoch + max_epochs)
    )
    if initial_epoch < final_epoch:
        trainer.fit(
            X_train,
            Y_train,
            batch_size=recipe.batch_size,
            epochs=final_epoch,
            initial_epoch=initial_epoch,
            validation_data=(X_test, Y_test),
            callbacks=[_CheckpointEachEpoch(out_dir, resnet, recipe, history)],
            shuffle=True,
            verbose=verbose,
        )
    _write_json_atomically(out_dir / "history.json", {"recipe": recipe.name, **history})
    return resnet, history


def _write_json_atomically(path: Path, data: dict):
    write_text_atomic(json.dumps(data, indent=1), path)


# ---------------------------------------------------------------------------------------------
# Several devices and machines: tf.distribute (TensorFlow backend); helpers in `distributed`.


def _train_with_strategy(
    recipe, out_dir, data_dir, verbose, max_epochs, network, max_train_images,
    strategy, scale_learning_rate, stream, sync_batchnorm,
):  # fmt: skip
    """`train` with a tf.distribute strategy and the tf.data pipeline."""
    tf = tensorflow_backend()
    strategy = strategy or tf.distribute.get_strategy()
    out_dir = Path(out_dir)
    replicas = strategy.num_replicas_in_sync
    global_batch, learning_rate = distributed_batch_and_learning_rate(
        recipe, replicas, scale_learning_rate
    )
    chief = is_chief(strategy)
    # Other workers write their (identical) checkpoints to a temporary folder and delete it.
    write_dir = out_dir if chief else Path(tempfile.mkdtemp(prefix="course-train-worker-"))
    verbose = verbose if chief else 0
    try:
        train_examples, test_examples = data_pipeline.signs_examples(
            data_dir, stream=stream, max_train_images=max_train_images
        )
        drop_remainder = replicas > 1
        steps_per_epoch = data_pipeline.steps_per_epoch(
            train_examples.count, global_batch, drop_remainder
        )
        if steps_per_epoch == 0:
            raise ValueError(
                f"{train_examples.count} training images do not fill one global batch of "
                f"{global_batch} ({recipe.batch_size} per replica x {replicas} replicas): lower "
                "Recipe.batch_size or train on more images."
            )
        with strategy.scope():
            resnet, trainer = build_models(
                dataclasses.replace(recipe, learning_rate=learning_rate),
                steps_per_epoch,
                input_shape=train_examples.image_shape,
                classes=train_examples.n_classes,
                network=network,
            )
        if sync_batchnorm:
            for layer in resnet.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            apply_multi_worker_fixes(trainer, strategy)

        gather_from_workers(strategy, 0)  # the chief's last checkpoint is complete: read it
        history: dict = {}
        initial_epoch = 0
        checkpoint = latest_checkpoint(out_dir)
        if checkpoint is not None:
            with strategy.scope():
                state = restore_checkpoint(checkpoint, resnet, trainer)
            if state["recipe"] != dataclasses.asdict(recipe):
                raise ValueError(
                    f"{checkpoint} was written by recipe {state['recipe']['name']!r} with other "
                    f"settings; train {recipe.name!r} into another --out folder or delete "
                    f"{out_dir}."
                )
            history, initial_epoch = state["history"], state["epoch"]
        starts = gather_from_workers(strategy, initial_epoch)
        if len(set(starts.tolist())) != 1:
            raise RuntimeError(
                f"the workers found checkpoints of different epochs in {out_dir} "
                f"({sorted(set(starts.tolist()))}): every worker must read the chief's "
                "checkpoints, so out_dir must be a folder they share."
            )
        if verbose and checkpoint is not None:
            print(f"Resuming {recipe.name!r} after epoch {initial_epoch} from {checkpoint}")
        if verbose:
            print(
                f"{replicas} replica(s): global batch {global_batch} "
                f"({recipe.batch_size} per replica), learning rate {learning_rate:g}"
            )

        final_epoch = (
            recipe.epochs if max_epochs is None else min(recipe.epochs, initial_epoch + max_epochs)
        )
        if initial_epoch < final_epoch:
            trainer.fit(
                data_pipeline.training_batches(
                    train_examples,
                    global_batch,
                    seed=recipe.seed,
                    first_epoch=initial_epoch,
                    last_epoch=final_epoch,
                    drop_remainder=drop_remainder,
                ),
                epochs=final_epoch,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps_per_epoch,
                validation_data=data_pipeline.evaluation_batches(test_examples, global_batch),
                callbacks=[_CheckpointEachEpoch(write_dir, resnet, recipe, history)],
                shuffle=False,  # the pipeline shuffles, seeded per epoch
                verbose=verbose,
            )
        _write_json_atomically(write_dir / "history.json", {"recipe": recipe.name, **history})
        finish_together(strategy, chief, len(history.get("loss", [])))
    finally:
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)
    return resnet, history


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.training.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="course")
    parser.add_argument("--quick", action="store_true", help="the 2-epoch smoke recipe")
    parser.add_argument("--out", type=Path, default=Path("checkpoints/course"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="stop after this many epochs in this call (resume later)",
    )
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        help="write the trained weights as float16 .weights.h5 here",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=None,
        help="train with this tf.distribute strategy (multi_worker: the cluster in TF_CONFIG); "
        "the recipe's batch size is then per replica and the learning rate x replicas",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        default=None,
        help="split the CPU into this many logical devices (try --strategy mirrored without GPUs)",
    )
    parser.add_argument(
        "--no-lr-scaling",
        action="store_true",
        help="keep the recipe's learning rate with several replicas (default: x replicas)",
    )
    parser.add_argument(
        "--sync-batchnorm",
        action="store_true",
        help="average BatchNormalization statistics over all replicas",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="stream the data from the SIGNS files with tf.data instead of loading it",
    )
    args = parser.parse_args(argv)
    if args.cpu_devices is not None and args.strategy != "mirrored":
        parser.error("--cpu-devices goes with --strategy mirrored")
    return args


def main(argv=None) -> int:
    args = _parse_args(argv)
    recipe = QUICK if args.quick else RECIPES[args.recipe]
    # A multi-worker strategy is created first, before any other TensorFlow work.
    strategy = make_strategy(args.strategy, args.cpu_devices) if args.strategy else None
    started = time.perf_counter()
    resnet, history = train(
        recipe,
        args.out,
        args.data_dir,
        max_epochs=args.max_epochs,
        strategy=strategy,
        scale_learning_rate=not args.no_lr_scaling,
        stream=args.stream,
        sync_batchnorm=args.sync_batchnorm,
    )
    elapsed = time.perf_counter() - started
    if history.get("val_accuracy"):
        print(
            f"{recipe.name}: {len(history['val_accuracy'])} epochs, test accuracy "
            f"{history['val_accuracy'][-1]:.4f}, {elapsed:.0f} s in this call"
        )
    if args.export and (strategy is None or is_chief(strategy)):
        from course_utils.weights import export_float16

        export_float16(resnet, args.export)
        print(f"Wrote {args.export}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
