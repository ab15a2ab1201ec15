"""The course's training loop: train (or resume) a recipe on one device or many, writing a
checkpoint after every epoch (`course_utils.training.checkpoints`).

`train(recipe, out_dir, TrainOptions(...))` is the one path for every run: the models are built
in the scope of a `tf.distribute` strategy (TensorFlow's default strategy, one device, when none
is given) and trained on the tf.data pipeline of `course_utils.data.pipeline` (in memory, or
streamed from the files). The command line is `python -m course_utils.training`.

A run trains on the 900 images of `load_validation_split` and measures, after every epoch, the
180 images of its held-out validation signers and their left-right mirror images (`val_accuracy`,
`val_mirrored_accuracy`): the test split is never read, so it stays untouched for the final figure.

On several replicas (see `course_utils.training.distributed`):

* `Recipe.batch_size` is the batch of one replica: a step processes `batch_size x replicas`
  images, and the learning rate is scaled by the number of replicas unless
  `scale_learning_rate=False`.
* Each epoch drops its last, partial global batch, so that every replica gets a full batch; with
  one replica no image is dropped.
* Only the chief (worker 0, or the single process) writes checkpoints and `history.json` into
  out_dir; the other workers write theirs into a temporary folder that they delete. Every worker
  resumes from the chief's newest checkpoint, so on several machines out_dir must be a folder
  they all read. The recipe stored in a checkpoint is the recipe as given (per-replica batch,
  unscaled learning rate).
* BatchNormalization computes its statistics per replica (in Keras 3 each replica also keeps its
  own moving averages; checkpoints store the first replica's) unless `sync_batchnorm=True`, which
  all-reduces them over the replicas: the statistics of the global batch.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import keras

from course_utils.atomic_files import write_text_atomic
from course_utils.data import pipeline as data_pipeline
from course_utils.data.split import N_CLASSES, N_VALIDATION_SIGNERS
from course_utils.resnet import ResNet50
from course_utils.training.augment import AugmentationRanges, SignAugmentation
from course_utils.training.batchnorm import set_batchnorm_momentum
from course_utils.training.checkpoints import checkpoint_path, resume, save_checkpoint
from course_utils.training.distributed import (
    apply_multi_worker_fixes,
    distributed_batch_and_learning_rate,
    finish_together,
    gather_from_workers,
    is_chief,
    tensorflow_backend,
)
from course_utils.training.recipes import Recipe, make_optimizer

if TYPE_CHECKING:
    import tensorflow as tf


@dataclass(frozen=True)
class TrainOptions:
    """How `train` runs a recipe: where the data comes from, on which devices, how much of it.
    None of these is stored in the checkpoints; the recipe is.

    Attributes:
        data_dir: the SIGNS data folder; None: the course's default (built first if needed).
        verbose: 0 is silent, 1 shows a progress bar per epoch, 2 one line per epoch (Keras's
            `fit` verbosity). Only the chief prints.
        max_epochs: stop after this many epochs in this call, keeping the recipe's schedule, so
            that a long run can be done in pieces; None: up to the recipe's last epoch.
        network: builds the network to train from `(input_shape=..., classes=...)`; the course's
            ResNet50 by default (the tests pass a small network).
        max_train_images: train on the first this many training images only (a quick run).
        strategy: the `tf.distribute` strategy to train with (`distributed.make_strategy`);
            None: the strategy in scope, TensorFlow's default strategy (one device) outside any.
        scale_learning_rate: multiply the recipe's learning rate by the number of replicas (the
            global batch is that many times larger); no effect on one replica.
        stream: read the training and test images from the SIGNS files chunk by chunk instead of
            loading them into memory.
        sync_batchnorm: BatchNormalization layers compute their batch statistics over all
            replicas instead of each replica's own slice.
        run_eagerly: run the steps operation by operation in Python instead of compiling them
            into a graph, which pays off only for runs of a few steps; one replica only.
        validation_signers: how many signers of the training set to hold out for validation
            (the course: 30, as `load_validation_split`; small test sets hold out fewer).
        initial_weights: a `.weights.h5` file of the network to start from instead of random
            weights (a fine-tune); a run that resumes from a checkpoint ignores it.
        tensorboard_dir: write TensorBoard logs of every epoch here (`tensorboard --logdir`);
            None: none.
    """

    data_dir: Path | str | None = None
    verbose: int = 1
    max_epochs: int | None = None
    network: Callable[..., keras.Model] = ResNet50
    max_train_images: int | None = None
    strategy: tf.distribute.Strategy | None = None
    scale_learning_rate: bool = True
    stream: bool = False
    sync_batchnorm: bool = False
    run_eagerly: bool = False
    validation_signers: int = N_VALIDATION_SIGNERS
    initial_weights: Path | str | None = None
    tensorboard_dir: Path | str | None = None


def build_models(
    recipe: Recipe,
    steps_per_epoch: int,
    input_shape=(64, 64, 3),
    classes=N_CLASSES,
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
    set_batchnorm_momentum(resnet, recipe.batchnorm_momentum)

    inputs = keras.Input(input_shape)
    ranges = AugmentationRanges(mirror_probability=recipe.mirror_probability)
    x = (
        SignAugmentation(ranges, seed=recipe.seed, name="augmentation")(inputs)
        if recipe.augment
        else inputs
    )
    trainer = keras.Model(inputs, resnet(x), name="trainer")
    trainer.compile(
        optimizer=make_optimizer(recipe, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
        metrics=["accuracy"],
        run_eagerly=run_eagerly,
    )
    return resnet, trainer


class MirroredValidationAccuracy(keras.callbacks.Callback):
    """Adds `val_mirrored_accuracy` to each epoch's logs: the network's accuracy, in inference
    mode, on the left-right mirror images of the validation batches (a right hand becomes a left
    one). Put it before the callbacks that record the logs."""

    def __init__(self, resnet, validation_batches):
        super().__init__()
        self.resnet = resnet
        self.batches = validation_batches.map(
            lambda images, labels: (keras.ops.flip(images, axis=2), labels)
        )

    def on_epoch_end(self, epoch, logs=None):
        correct = total = 0
        for images, labels in self.batches:
            predicted = keras.ops.argmax(self.resnet(images, training=False), axis=-1)
            correct += int(keras.ops.sum(predicted == keras.ops.argmax(labels, axis=-1)))
            total += int(labels.shape[0])
        if logs is not None:
            logs["val_mirrored_accuracy"] = correct / max(total, 1)


class _CheckpointEachEpoch(keras.callbacks.Callback):
    """Stops a diverged run, else appends the epoch's metrics to the history and saves it."""

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


def train(recipe: Recipe, out_dir, options: TrainOptions | None = None):
    """Train (or resume) `recipe`, checkpointing every epoch into out_dir.

    Args:
        recipe: the training recipe (`recipes.COURSE`, ...); its batch size is per replica.
        out_dir: folder for the checkpoints and `history.json`; a run resumes from the newest
            complete checkpoint there.
        options: how to run it (`TrainOptions`; default: ResNet-50 on the course's data, on one
            device, with a progress bar).

    Returns:
        (resnet, history): the trained network and a dict of per-epoch lists (loss, accuracy,
        val_loss, val_accuracy, val_mirrored_accuracy) of all epochs so far, measured on the
        validation signers of `load_validation_split`.

    Raises:
        ValueError: run_eagerly with several replicas, too few images for one global batch, or
            out_dir holds a checkpoint of another recipe.
        FloatingPointError: a metric became NaN or infinite (training diverged).
    """
    options = options or TrainOptions()
    tf = tensorflow_backend()
    strategy = tf.distribute.get_strategy() if options.strategy is None else options.strategy
    replicas = strategy.num_replicas_in_sync
    if options.run_eagerly and replicas > 1:
        raise ValueError(
            f"run_eagerly is for training on one replica, and the strategy has {replicas}: "
            "leave it out, so that the steps are compiled into a graph."
        )
    out_dir = Path(out_dir)
    chief = is_chief(strategy)
    # Other workers write their (identical) checkpoints to a temporary folder and delete it.
    write_dir = out_dir if chief else Path(tempfile.mkdtemp(prefix="course-train-worker-"))
    verbose = options.verbose if chief else 0
    try:
        global_batch, learning_rate = distributed_batch_and_learning_rate(
            recipe, replicas, options.scale_learning_rate
        )
        train_examples, validation_examples = data_pipeline.train_validation_examples(
            options.data_dir,
            stream=options.stream,
            max_train_images=options.max_train_images,
            validation_signers=options.validation_signers,
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
                network=options.network,
                run_eagerly=options.run_eagerly,
            )
        if options.sync_batchnorm:
            for layer in resnet.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            apply_multi_worker_fixes(trainer, strategy)

        if options.initial_weights is not None:
            resnet.load_weights(options.initial_weights)
        gather_from_workers(strategy, 0)  # the chief's last checkpoint is complete: read it
        with strategy.scope():
            history, initial_epoch = resume(out_dir, resnet, trainer, recipe)
        starts = set(gather_from_workers(strategy, initial_epoch).tolist())
        if len(starts) != 1:
            raise RuntimeError(
                f"the workers found checkpoints of different epochs in {out_dir} "
                f"({sorted(starts)}): every worker must read the chief's checkpoints, so out_dir "
                "must be a folder they share."
            )
        if verbose and initial_epoch:
            print(
                f"Resuming {recipe.name!r} after epoch {initial_epoch} from "
                f"{checkpoint_path(out_dir, initial_epoch)}"
            )
        if verbose and replicas > 1:
            print(
                f"{replicas} replicas: global batch {global_batch} "
                f"({recipe.batch_size} per replica), learning rate {learning_rate:g}"
            )

        final_epoch = recipe.epochs
        if options.max_epochs is not None:
            final_epoch = min(final_epoch, initial_epoch + options.max_epochs)
        if initial_epoch < final_epoch:
            validation_batches = data_pipeline.evaluation_batches(validation_examples, global_batch)
            callbacks = [
                MirroredValidationAccuracy(resnet, validation_batches),
                _CheckpointEachEpoch(write_dir, resnet, recipe, history),
            ]
            if options.tensorboard_dir is not None and chief:
                callbacks.append(
                    keras.callbacks.TensorBoard(str(options.tensorboard_dir), write_graph=False)
                )
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
                validation_data=validation_batches,
                callbacks=callbacks,
                shuffle=False,  # the pipeline shuffles, seeded per epoch
                verbose=verbose,
            )
        write_text_atomic(
            json.dumps({"recipe": recipe.name, **history}, indent=1), write_dir / "history.json"
        )
        finish_together(strategy, chief, len(history.get("loss", [])))
    finally:
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)
    return resnet, history
