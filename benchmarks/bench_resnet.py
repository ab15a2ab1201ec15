"""Training and prediction throughput of the course ResNet-50, as ratios measured in one process.

    python benchmarks/bench_resnet.py [--steps 8] [--batch 32] [--mixed-bfloat16] [--json OUT]

Measures, on the machine it runs on:
- training images/s of `course_utils.resnet.ResNet50()` and of
  `keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)`, alternating
  between the two so that both see the same machine state; the ratio course / keras;
- prediction images/s of both;
- the FLOPs of one training step (3x the forward FLOPs, counted from the layers) divided by the
  step time, as a fraction of a `tf.matmul` roofline measured in the same run, in the dtype the
  model computes in (float32, or bfloat16 with --mixed-bfloat16);
- whether the input pipeline starves the model: the time `tf.data` needs to produce a batch
  (with the course augmentation) against the time of a training step;
- with --mixed-bfloat16, the same under the `mixed_bfloat16` policy.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from course_tools.machine import cpu_model
from course_utils.resnet import ResNet50
from course_utils.training.augment import SignAugmentation

INPUT_SHAPE = (64, 64, 3)
CLASSES = 6


def forward_flops(model: keras.Model) -> int:
    """Multiply-adds x 2 of one image through the Conv2D and Dense layers of `model`."""
    flops = 0
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            flops += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            flops += 2 * n_in * n_out
    return int(flops)


def _all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def matmul_roofline(n: int = 2048, repeats: int = 10, dtype: str = "float32") -> float:
    """Achieved FLOP/s of an n x n matmul in `dtype` (the best of `repeats`)."""
    a = tf.cast(tf.random.uniform((n, n)), dtype)
    b = tf.cast(tf.random.uniform((n, n)), dtype)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def _compiled(model):
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy", jit_compile=False)
    return model


def time_training(model, x, y, batch: int, steps: int) -> float:
    """Seconds per training step (median of `steps`, after one warm-up step)."""
    model.train_on_batch(x[:batch], y[:batch])
    times = []
    for i in range(steps):
        sl = slice((i * batch) % (len(x) - batch), (i * batch) % (len(x) - batch) + batch)
        start = time.perf_counter()
        model.train_on_batch(x[sl], y[sl])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_prediction(model, x, batch: int, repeats: int = 3) -> float:
    """Images per second of model.predict_on_batch (the best of `repeats`)."""
    model.predict_on_batch(x[:batch])
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(x[:batch])
        best = min(best, time.perf_counter() - start)
    return batch / best


def time_input_pipeline(x, y, batch: int, batches: int = 20) -> float:
    """Seconds for tf.data to deliver one augmented batch (shuffle, batch, augment, prefetch)."""
    augment = SignAugmentation(seed=0)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=0)
        .batch(batch)
        .map(lambda a, b: (augment(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    iterator = iter(dataset)
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return (time.perf_counter() - start) / batches


def run(steps: int, batch: int, mixed_bfloat16: bool) -> dict:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (batch * 4,) + INPUT_SHAPE).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, CLASSES, len(x)), CLASSES)

    keras.backend.clear_session()  # resets the dtype policy too: set it afterwards
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if mixed_bfloat16 else "float32")
    course = _compiled(ResNet50(INPUT_SHAPE, CLASSES))
    reference = _compiled(
        keras.applications.ResNet50(weights=None, input_shape=INPUT_SHAPE, classes=CLASSES)
    )
    # The roofline in the dtype the convolutions compute in (bfloat16 under mixed_bfloat16).
    roofline = matmul_roofline(dtype=keras.mixed_precision.global_policy().compute_dtype)
    course_step, reference_step = [], []
    for _ in range(2):  # alternate so that both see the same machine state
        course_step.append(time_training(course, x, y, batch, steps))
        reference_step.append(time_training(reference, x, y, batch, steps))
    course_step_s, reference_step_s = min(course_step), min(reference_step)
    train_flops = 3 * forward_flops(course) * batch
    pipeline_s = time_input_pipeline(x, y, batch)
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "policy": keras.mixed_precision.global_policy().name,
        "batch": batch,
        "course_train_images_per_s": round(batch / course_step_s, 2),
        "keras_applications_train_images_per_s": round(batch / reference_step_s, 2),
        "train_speed_ratio_course_over_keras": round(reference_step_s / course_step_s, 3),
        "course_predict_images_per_s": round(time_prediction(course, x, batch), 1),
        "keras_applications_predict_images_per_s": round(time_prediction(reference, x, batch), 1),
        "forward_gflops_per_image": round(forward_flops(course) / 1e9, 3),
        "matmul_roofline_gflops": round(roofline / 1e9, 1),
        "achieved_train_gflops": round(train_flops / course_step_s / 1e9, 1),
        "fraction_of_matmul_roofline": round(train_flops / course_step_s / roofline, 3),
        "input_pipeline_s_per_batch": round(pipeline_s, 4),
        "train_step_s": round(course_step_s, 4),
        "pipeline_starves_model": pipeline_s > course_step_s,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mixed-bfloat16", action="store_true")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    results = run(args.steps, args.batch, args.mixed_bfloat16)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
