"""Training and prediction throughput of the course ResNet-50, as ratios measured in one process.

    python benchmarks/bench_resnet.py [--steps 8] [--batch 32] [--mixed-bfloat16] [--json OUT]
    python benchmarks/bench_resnet.py --recipe [--steps 8] [--json OUT]

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

With --recipe it measures instead the training images/s of the course recipe as the training
command runs it (`train.build_models(COURSE)`: augmentation in front of ResNet-50, AdamW, label
smoothing) in float32, under `mixed_bfloat16`, and with XLA (`jit_compile=True`, the network
alone: XLA cannot compile the augmentation), each as a ratio to `keras.applications.ResNet50` in
float32, timed alternately in the same process.
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
from course_utils.training.recipes import COURSE
from course_utils.training.train import build_models

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


# XLA cannot compile the augmentation's affine transform (ImageProjectiveTransformV3 has no XLA
# kernel on the CPU), so with XLA the network alone is compiled, as it would train on batches
# augmented in the tf.data pipeline.
RECIPE_VARIANTS = {
    "float32": {"policy": "float32", "jit_compile": False},
    "xla_network_only": {"policy": "float32", "jit_compile": True},
    "mixed_bfloat16": {"policy": "mixed_bfloat16", "jit_compile": False},
}


def _recipe_trainer(policy: str, jit_compile: bool, steps_per_epoch: int):
    """The recipe's trainer (augmentation and ResNet-50), or with jit_compile its network alone,
    with the recipe's optimizer and loss."""
    keras.mixed_precision.set_global_policy(policy)
    resnet, trainer = build_models(COURSE, steps_per_epoch)
    if jit_compile:
        resnet.compile(optimizer=trainer.optimizer, loss=trainer.loss, jit_compile=True)
        trainer = resnet
    keras.mixed_precision.set_global_policy("float32")
    return trainer


def run_recipe(steps: int, batch: int) -> dict:
    """Training images/s of the course recipe's trainer in each of RECIPE_VARIANTS, and of
    keras.applications.ResNet50 (float32), alternating rounds."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (batch * 4,) + INPUT_SHAPE).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, CLASSES, len(x)), CLASSES)
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("float32")
    models = {
        "keras_applications_float32": _compiled(
            keras.applications.ResNet50(weights=None, input_shape=INPUT_SHAPE, classes=CLASSES)
        ),
        **{
            f"recipe_{name}": _recipe_trainer(steps_per_epoch=29, **variant)
            for name, variant in RECIPE_VARIANTS.items()
        },
    }
    step_s = {name: [] for name in models}
    for _ in range(2):  # alternate so that all see the same machine state
        for name, model in models.items():
            step_s[name].append(time_training(model, x, y, batch, steps))
    baseline = min(step_s["keras_applications_float32"])
    results = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "batch": batch,
    }
    for name, times in step_s.items():
        results[f"{name}_train_images_per_s"] = round(batch / min(times), 2)
        results[f"{name}_speed_over_keras_applications"] = round(baseline / min(times), 3)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mixed-bfloat16", action="store_true")
    parser.add_argument(
        "--recipe",
        action="store_true",
        help="time the course recipe's trainer in float32, with XLA and in mixed_bfloat16",
    )
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.recipe:
        results = run_recipe(args.steps, args.batch)
    else:
        results = run(args.steps, args.batch, args.mixed_bfloat16)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
