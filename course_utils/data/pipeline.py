"""The course's input pipeline: one preprocessing function, two sources (memory and files), the
same batches from both.

* `scale_images` is the course's one image scaling, uint8 0-255 -> float32 `X / 255.0` in
  [0, 1]: training, evaluation, Grad-CAM, the variants and the experiments all scale with it.
* `preprocess` turns uint8 images and integer labels into what the network trains on: the
  images scaled by `scale_images` and float32 one-hot labels. Both tf.data sources below are made
  by this one function.
* `memory_examples` serves a split held in memory; `file_examples` streams a split (or chosen
  positions of it) from its SIGNS HDF5 file, `chunk_size` images at a time
  (`tf.data.Dataset.from_generator`), so that only the labels, a chunk of images and the shuffle
  buffer are ever in memory: the way to train on image sets that do not fit in memory (all ten
  digits, full resolution, more photos). Both sources check the files with the same validator,
  `signs_file.open_signs_file`.
* `training_batches` and `evaluation_batches` batch either source in the same way. For the same
  data, seed and shuffle buffer both sources give identical batches
  (tests/unit/test_data_pipeline.py).

Shuffling is seeded by the seed and the epoch number, so a run resumed from the checkpoint of
epoch k sees the batches that the uninterrupted run saw, and every worker of a multi-worker run
builds the same order. tf.distribute then hands each replica its slice of every global batch
(auto-shard policy DATA: every worker reads the files and keeps its share of each batch).

TensorFlow is imported only by the functions that build datasets, not by `scale_images` or
`preprocess`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course_utils.data.build import ensure_signs_data
from course_utils.data.paths import TRAIN_FILE
from course_utils.data.signs_file import open_signs_file, read_signs_file
from course_utils.data.split import N_VALIDATION_SIGNERS
from course_utils.resnets_utils import convert_to_one_hot, validation_split_positions

DEFAULT_CHUNK_SIZE = 256  # images read from a file at a time
DEFAULT_SHUFFLE_BUFFER = 4096  # examples; the whole split when it is smaller (SIGNS: 1080)
EPOCH_SEED_STRIDE = 100_003  # shuffle seed of epoch e: seed * EPOCH_SEED_STRIDE + e


def scale_images(images, dtype="float32") -> np.ndarray:
    """The course's image scaling: uint8 pixels 0-255 to [0, 1], `X / 255.0`.

    Args:
        images: uint8 array, values 0-255 (the course's images are (m, 64, 64, 3)).
        dtype: the float type of the result (float32, what the network computes in; float64 for
            statistics that average many pixels).

    Returns:
        images / 255.0, same shape, of type `dtype`.

    Raises:
        ValueError: the images are not uint8 (already scaled?).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 (0-255), got {images.dtype}: the course scales them once, "
            "X / 255.0 (already scaled?)"
        )
    return images.astype(dtype) / 255.0


def preprocess(images, labels, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The course's preprocessing: scale the images to [0, 1] and one-hot encode the labels.

    Args:
        images: uint8 array (m, H, W, 3), values 0-255.
        labels: integer labels in 0..n_classes-1, any shape with m elements ((m,) or (1, m)).
        n_classes: the number of classes (the course's: `split.N_CLASSES`).

    Returns:
        (X (m, H, W, 3) float32 = `scale_images(images)`, Y (m, n_classes) float32 one-hot).

    Raises:
        ValueError: the images are not uint8 (already scaled?) or a label is out of range.
    """
    X = scale_images(images)
    Y = convert_to_one_hot(labels, n_classes).T.astype("float32")
    return X, Y


@dataclass(frozen=True)
class Examples:
    """One split as a `tf.data.Dataset` of single preprocessed examples, in stored order.

    Attributes:
        dataset: elements (image (H, W, 3) float32 in [0, 1], label (n_classes,) float32 one-hot).
        count: the number of examples.
        image_shape: (H, W, 3).
        n_classes: the number of classes.
    """

    dataset: Any
    count: int
    image_shape: tuple[int, int, int]
    n_classes: int


def memory_examples(images, labels, n_classes: int) -> Examples:
    """A split held in memory (uint8 images and integer labels, as `load_dataset` returns them)."""
    tf = _tensorflow()
    X, Y = preprocess(images, labels, n_classes)
    dataset = tf.data.Dataset.from_tensor_slices((X, Y))
    return Examples(dataset, len(X), tuple(X.shape[1:]), n_classes)


def file_examples(
    path: Path | str,
    prefix: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_examples: int | None = None,
    positions=None,
) -> Examples:
    """A split streamed from a SIGNS HDF5 file, `chunk_size` images at a time.

    Args:
        path: the file (`train_signs.h5` or `test_signs.h5` format).
        prefix: "train" or "test" (the datasets are `<prefix>_set_x`, `<prefix>_set_y`).
        chunk_size: images read and preprocessed at a time.
        max_examples: stream only the first this many examples.
        positions: increasing positions of the images to stream (default: all of them).

    Raises:
        SignsDataError: the file is missing or is not SIGNS data (checked by
            `signs_file.open_signs_file` before streaming, and again each time it is read).
    """
    tf = _tensorflow()
    path = Path(path)
    with open_signs_file(path, prefix) as signs:
        stored = len(signs.y)
        image_shape = tuple(int(n) for n in signs.x.shape[1:])
        n_classes = len(signs.classes)
    positions = np.arange(stored) if positions is None else np.asarray(positions)
    positions = positions[:max_examples]
    count = len(positions)

    def chunks():
        with open_signs_file(path, prefix) as signs:
            for start in range(0, count, chunk_size):
                chunk = positions[start : start + chunk_size]
                yield preprocess(signs.x[chunk], signs.y[chunk], n_classes)

    signature = (
        tf.TensorSpec((None, *image_shape), tf.float32),
        tf.TensorSpec((None, n_classes), tf.float32),
    )
    dataset = tf.data.Dataset.from_generator(chunks, output_signature=signature).unbatch()
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
    return Examples(dataset, count, image_shape, n_classes)


def train_validation_examples(
    data_dir: Path | str | None = None,
    stream: bool = False,
    max_train_images: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    validation_signers: int = N_VALIDATION_SIGNERS,
) -> tuple[Examples, Examples]:
    """The SIGNS training set split by signer (as `resnets_utils.load_validation_split` splits
    it): the images to train on and those of the validation signers, held in memory or streamed
    from the file. The test split is never read.

    Args:
        data_dir: SIGNS data folder (None: the course's default, built first if needed).
        stream: read the file chunk by chunk instead of loading it.
        max_train_images: use the first this many training images only.
        chunk_size: images read at a time when streaming.
        validation_signers: how many signers to hold out (the course: 30, 180 images).

    Returns:
        (train, validation) Examples: 900 and 180 images of the course data.
    """
    folder = Path(data_dir) if data_dir is not None else ensure_signs_data()
    train_positions, validation_positions = validation_split_positions(folder, validation_signers)
    if not stream:
        signs = read_signs_file(folder / TRAIN_FILE, "train")
        n_classes = len(signs.classes)
        train_positions = train_positions[:max_train_images]
        return (
            memory_examples(signs.x[train_positions], signs.y[train_positions], n_classes),
            memory_examples(
                signs.x[validation_positions], signs.y[validation_positions], n_classes
            ),
        )
    path = folder / TRAIN_FILE
    return (
        file_examples(path, "train", chunk_size, max_train_images, train_positions),
        file_examples(path, "train", chunk_size, positions=validation_positions),
    )


def steps_per_epoch(count: int, global_batch_size: int, drop_remainder: bool) -> int:
    """Batches in one epoch of `count` examples."""
    if drop_remainder:
        return count // global_batch_size
    return math.ceil(count / global_batch_size)


def training_batches(
    examples: Examples,
    global_batch_size: int,
    seed: int = 0,
    first_epoch: int = 0,
    last_epoch: int = 1,
    shuffle: bool = True,
    shuffle_buffer: int | None = None,
    drop_remainder: bool = False,
):
    """The batches of epochs first_epoch..last_epoch-1, one after another, as one dataset.

    Args:
        examples: the training split.
        global_batch_size: the batch of one training step, all replicas together (tf.distribute
            splits it between the replicas).
        seed: epoch e is shuffled with seed `seed * EPOCH_SEED_STRIDE + e` (and the global seed
            that `keras.utils.set_random_seed` sets), so each epoch's order does not depend on
            where the run started.
        first_epoch, last_epoch: the epochs to cover (0-based, last excluded).
        shuffle: shuffle each epoch (with a buffer of `shuffle_buffer` examples).
        shuffle_buffer: default: the whole split up to DEFAULT_SHUFFLE_BUFFER examples.
        drop_remainder: drop each epoch's last, partial batch (so that every replica gets a full
            per-replica batch).

    Returns:
        A tf.data.Dataset of (images, one-hot labels) batches, set up for tf.distribute.
    """
    if last_epoch <= first_epoch:
        raise ValueError(f"no epoch between first_epoch {first_epoch} and last_epoch {last_epoch}")
    if shuffle_buffer is None:
        shuffle_buffer = DEFAULT_SHUFFLE_BUFFER
    buffer = max(1, min(shuffle_buffer, examples.count))

    def one_epoch(epoch: int):
        dataset = examples.dataset
        if shuffle:
            dataset = dataset.shuffle(
                buffer, seed=seed * EPOCH_SEED_STRIDE + epoch, reshuffle_each_iteration=False
            )
        return dataset.batch(global_batch_size, drop_remainder=drop_remainder)

    # One shuffle per epoch, each with its own (Python integer) seed, one after another.
    dataset = one_epoch(first_epoch)
    for epoch in range(first_epoch + 1, last_epoch):
        dataset = dataset.concatenate(one_epoch(epoch))
    return _for_distribution(dataset)


def evaluation_batches(examples: Examples, global_batch_size: int):
    """The split in stored order, in global batches (the last one may be partial)."""
    return _for_distribution(examples.dataset.batch(global_batch_size))


def _for_distribution(dataset):
    tf = _tensorflow()
    options = tf.data.Options()
    # Shard by data, not by file: every worker reads the same stream and keeps its replicas'
    # slices of each global batch (a from_generator or in-memory source has no files to split).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def _tensorflow():
    import tensorflow as tf

    return tf
