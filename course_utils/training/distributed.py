"""Helpers for training on several devices and machines with `tf.distribute` (TensorFlow
backend), used by the training loop (`course_utils.training.train`): creating a strategy, the
global batch and learning rate, which process is the chief, collective steps between workers,
and two work-arounds for Keras 3.15 with MultiWorkerMirroredStrategy.

The batch and learning-rate rule: `Recipe.batch_size` is the batch of one replica (device), so a
step processes the global batch `batch_size x replicas` and each device's memory use does not
depend on how many there are; the learning rate is scaled linearly with the number of replicas
(the "linear scaling rule" of Goyal et al., 2017, that goes with the larger global batch).
"""

from __future__ import annotations

import weakref

import keras
import numpy as np

from course_utils import keras_compat

STRATEGIES = ("default", "mirrored", "multi_worker")


def use_logical_cpus(n: int) -> None:
    """Split the CPU into `n` logical devices, so that MirroredStrategy has `n` replicas to try
    on a machine without GPUs. Call it before TensorFlow runs its first operation.

    Raises:
        RuntimeError: TensorFlow has already started (and has another number of CPU devices).
    """
    tf = tensorflow_backend()
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == n:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    except RuntimeError as e:
        raise RuntimeError(
            f"cannot split the CPU into {n} logical devices: TensorFlow has already started. "
            "Call use_logical_cpus first thing in the program (the notebook's first cell)."
        ) from e


def make_strategy(name: str = "default", cpu_devices: int | None = None):
    """The `tf.distribute` strategy called `name`.

    Args:
        name: "default" (one device, TensorFlow's default strategy), "mirrored" (every local
            GPU, or every logical CPU device where there is no GPU; one replica each) or
            "multi_worker" (`MultiWorkerMirroredStrategy`: the machines listed in the
            environment variable TF_CONFIG, each with its local devices). Create a multi-worker
            strategy at the start of the program, before other TensorFlow work.
        cpu_devices: first split the CPU into this many logical devices (`use_logical_cpus`),
            to try "mirrored" without GPUs.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    tf = tensorflow_backend()
    if cpu_devices:
        use_logical_cpus(cpu_devices)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def distributed_batch_and_learning_rate(
    recipe, replicas: int, scale_learning_rate: bool = True
) -> tuple[int, float]:
    """(global batch size, learning rate) of `recipe` trained on `replicas` replicas.

    `recipe.batch_size` is the batch of one replica; the learning rate grows linearly with the
    number of replicas unless `scale_learning_rate` is False.
    """
    scale = replicas if scale_learning_rate else 1
    return recipe.batch_size * replicas, recipe.learning_rate * scale


def is_chief(strategy) -> bool:
    """Whether this process writes checkpoints: worker 0 (or the chief) of a multi-worker
    cluster, and always a single process."""
    return bool(strategy.extended.should_checkpoint)


def tensorflow_backend():
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"tf.distribute needs Keras's TensorFlow backend, not {keras.backend.backend()!r}: "
            "set KERAS_BACKEND=tensorflow before importing keras."
        )
    import tensorflow as tf

    return tf


def gather_from_workers(strategy, value: int) -> np.ndarray:
    """`value` of every replica of every worker (a collective operation: it also waits for all)."""
    tf = tensorflow_backend()
    gather = _GATHER_FUNCTIONS.get(strategy)
    if gather is None:  # one tf.function per strategy, traced once
        strategy_ref = weakref.ref(strategy)  # the cache must not keep the strategy alive

        @tf.function
        def gather(value):
            per_replica = strategy_ref().run(lambda: tf.reshape(value, [1]))
            return strategy_ref().gather(per_replica, axis=0)

        _GATHER_FUNCTIONS[strategy] = gather
    return np.asarray(gather(tf.constant(value, tf.int64))).reshape(-1)


_GATHER_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def finish_together(strategy, chief: bool, value: int) -> None:
    """The last collective step of a run (`gather_from_workers` of ``value``): no worker leaves
    while another still tears its training down.

    The chief may leave as soon as it holds the others' values, before they hold its own: its
    process ends and closes the connection they read it from. A worker that finds the chief gone
    at this step has finished its training too, so that is no error for it; for the chief, a
    worker gone is one.
    """
    tf = tensorflow_backend()
    try:
        gather_from_workers(strategy, value)
    except tf.errors.UnavailableError:
        if chief:
            raise


def apply_multi_worker_fixes(trainer, strategy) -> None:
    """Work around two problems of Keras 3.15's `fit` and `evaluate` with a multi-worker
    MultiWorkerMirroredStrategy, by setting attributes of this one model (nothing global).

    1. Before the first step Keras builds the model from the first batch, averaged over the
       replicas by `strategy.reduce` on the whole (images, labels) structure, which this strategy
       refuses ("Attempt to convert a value (PerReplica...) to a Tensor"). Only the shapes
       matter: build from this worker's own first batch.
    2. After each step Keras averages the logged values over the workers with
       `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars ("Invalid reduction
       dimension 0 for input with 0 dimensions"). Return each scalar as a 1-element vector: the
       mean over the workers and that one element is the value.
    """
    tf = tensorflow_backend()
    keras_build = keras_compat.symbolic_build(trainer)

    def build(iterator=None, data_batch=None):
        batch = keras_compat.first_batch(iterator) if iterator is not None else None
        if batch is not None:
            data_batch = keras.tree.map_structure(
                lambda v: strategy.experimental_local_results(v)[0], batch
            )
        return keras_build(data_batch=data_batch)

    def scalars_as_vectors(step):
        def step_with_vectors(data):
            return keras.tree.map_structure(
                lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, step(data)
            )

        return step_with_vectors

    keras_compat.replace_symbolic_build(trainer, build)
    trainer.train_step = scalars_as_vectors(trainer.train_step)
    trainer.test_step = scalars_as_vectors(trainer.test_step)
