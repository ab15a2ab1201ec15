"""Driver for tests/system/test_distribute.py: trains a tiny network with `train` under
a tf.distribute strategy and writes the histories as JSON. Each case runs in its own process,
because logical CPU devices and a multi-worker strategy must be set up before TensorFlow starts.

    python tests/system/distributed_training.py local DATA_DIR WORK_DIR RESULT_JSON [CHIEF_OUT_DIR]
    TF_CONFIG=... python tests/system/distributed_training.py worker DATA_DIR OUT_DIR RESULT_JSON

`local` splits the CPU into 2 logical devices and trains, from the same initial weights and on the
same global batches: the single-device reference (global batch 24, learning rate 2 x LR, the
default single-device settings) and MirroredStrategy over the 2 devices (12 per replica, the
learning rate scaled x 2) with synchronized BatchNormalization on data streamed from the files;
it also checks that eager steps are refused on the 2 replicas;
with CHIEF_OUT_DIR it then resumes a copy of the chief's checkpoint folder (2 epochs of the
multi-worker run) for the last epoch. (Chapter 10 runs MirroredStrategy on the in-memory arrays,
with synchronized and with per-replica statistics, and its compared outputs check both against
one device.)
`worker` is one process of a 2-worker MultiWorkerMirroredStrategy cluster: it trains one epoch,
then resumes from the chief's checkpoint for a second one (two calls of `train`, as a run done in
pieces is).
"""

from __future__ import annotations

import dataclasses
import faulthandler
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from course_utils.training import distributed
from course_utils.training.recipes import SHORT
from course_utils.training.train import TrainOptions, train

# No augmentation and a constant learning rate, so that only the distribution differs.
PER_REPLICA = dataclasses.replace(
    SHORT,
    name="distributed",
    epochs=3,
    batch_size=12,
    learning_rate=1e-2,
    cosine_decay=False,
    warmup_epochs=0,
    augment=False,
)
REPLICAS = 2
# One device with the same global batch and the learning rate the 2 replicas are scaled to.
SINGLE_DEVICE = dataclasses.replace(
    PER_REPLICA, batch_size=PER_REPLICA.batch_size * REPLICAS,
    learning_rate=PER_REPLICA.learning_rate * REPLICAS,
)  # fmt: skip
N_TRAIN, N_TEST = 54, 12  # 48 to train on (one signer validates): 2 steps of 24 an epoch
VALIDATION_SIGNERS = 1


def tiny_network(input_shape, classes):
    """A convolution, BatchNormalization and a classifier. The convolution has no bias: a bias
    in front of BatchNormalization gets a zero gradient plus rounding noise, which Adam turns
    into steps of the size of the learning rate that differ between runs."""
    import keras

    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(4, 3, strides=4, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Activation("relu")(x))
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


def _run(recipe, out, data, strategy, **options) -> dict:
    started = time.perf_counter()
    options = TrainOptions(
        data_dir=data,
        verbose=0,
        network=tiny_network,
        strategy=strategy,
        validation_signers=VALIDATION_SIGNERS,
        **options,
    )
    _, history = train(recipe, out, options)
    return {"history": history, "seconds": round(time.perf_counter() - started, 2)}


def local(data: Path, work: Path, result: Path, chief_out: Path | None) -> None:
    faulthandler.enable()  # a crash in TensorFlow's C++ code leaves a traceback in the log
    distributed.use_logical_cpus(REPLICAS)
    single = distributed.make_strategy("default")
    mirrored = distributed.make_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == REPLICAS, mirrored.extended.worker_devices
    runs = {
        "single": _run(SINGLE_DEVICE, work / "single", data, single),
        "mirrored_streamed": _run(
            PER_REPLICA, work / "streamed", data, mirrored, sync_batchnorm=True, stream=True
        ),
    }
    try:
        _run(PER_REPLICA, work / "eager", data, mirrored, run_eagerly=True)
        runs["eager_refused"] = None
    except ValueError as e:
        runs["eager_refused"] = str(e)
    if chief_out is not None:
        resumed = work / "resumed"
        shutil.copytree(chief_out, resumed)
        runs["resumed"] = _run(PER_REPLICA, resumed, data, mirrored, sync_batchnorm=True)
    runs["replicas"] = mirrored.num_replicas_in_sync
    result.write_text(json.dumps(runs, indent=1))


def worker(data: Path, out: Path, result: Path) -> None:
    faulthandler.enable()  # a crash in TensorFlow's C++ code leaves a traceback in the log
    strategy = distributed.make_strategy("multi_worker")  # first: before any other TensorFlow work
    started = time.perf_counter()
    first = _run(PER_REPLICA, out, data, strategy, sync_batchnorm=True, max_epochs=1)
    second = _run(PER_REPLICA, out, data, strategy, sync_batchnorm=True, max_epochs=1)
    result.write_text(
        json.dumps(
            {
                "chief": distributed.is_chief(strategy),
                "replicas": strategy.num_replicas_in_sync,
                "first_call": first["history"],
                "history": second["history"],
                "seconds": round(time.perf_counter() - started, 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    mode, *paths = sys.argv[1:]
    if mode == "local":
        data_dir, work_dir, result_file, *chief = (Path(p) for p in paths)
        local(data_dir, work_dir, result_file, chief[0] if chief else None)
    elif mode == "worker":
        worker(*(Path(p) for p in paths))
    else:
        sys.exit(f"unknown mode {mode!r}")
