"""Isolate BatchNormalization's momentum in the original recipe: two runs that differ only in it.

Both runs train the course's ResNet50 exactly as the original assignment did (Adam 1e-3,
categorical cross-entropy, 5 epochs, mini-batches of 32, no augmentation), from the same initial
weights and in the same batch order, on the signer-disjoint training part of the SIGNS training
set. After each epoch they record the loss and accuracy on the training batches (batch
statistics), on the held-out validation signers (inference mode), and on the first 180 training
images in inference mode. The test set is not used.

    python -m course_tools.momentum_ablation

The result, a JSON file, ships with the course (`course_utils/assets/momentum_ablation.json`,
`course_utils.weights.MOMENTUM_ABLATION`); chapter 5 plots it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras

from course_tools.machine import cpu_model
from course_utils.atomic_files import write_text_atomic
from course_utils.data.split import N_CLASSES
from course_utils.resnet import ResNet50
from course_utils.training.brief_runs import (
    BATCH_SIZE,
    fit_original_recipe,
    fresh_compiled_model,
    load_split_arrays,
)
from course_utils.weights import MOMENTUM_ABLATION

MOMENTA = (0.99, 0.9)
EPOCHS = 5
SEED = 0
N_TRAIN_PROBE = 180


class InferenceModeProbe(keras.callbacks.Callback):
    """Records the accuracy on some training images in inference mode after every epoch."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.accuracy = x, y, []

    def on_epoch_end(self, epoch, logs=None):
        _, accuracy = self.model.evaluate(self.x, self.y, batch_size=BATCH_SIZE, verbose=0)
        self.accuracy.append(round(float(accuracy), 6))


def run(momentum: float, data, epochs: int = EPOCHS, seed: int = SEED, verbose: int = 2) -> dict:
    """One run of the original recipe with this BatchNormalization momentum, under the protocol
    of `course_utils.training.brief_runs` (the one chapter 9's `train_briefly` uses): a fresh,
    seeded session, Adam 1e-3 and categorical cross-entropy, `model.fit` on mini-batches of 32
    with the validation images evaluated after each epoch.

    Args:
        data: (X_train (m, 64, 64, 3) in [0, 1], Y_train (m, 6) one-hot, X_val, Y_val).

    Returns:
        {"momentum", "seconds_per_epoch", "loss", "accuracy", "val_loss", "val_accuracy",
         "train_inference_accuracy"}, the lists holding one value per epoch.
    """
    x_train, y_train, _, _ = data
    model = fresh_compiled_model(
        lambda: ResNet50(input_shape=(64, 64, 3), classes=N_CLASSES), seed, momentum
    )
    probe = InferenceModeProbe(x_train[:N_TRAIN_PROBE], y_train[:N_TRAIN_PROBE])
    start = time.perf_counter()
    history = fit_original_recipe(model, data, epochs, [probe], verbose)
    seconds = time.perf_counter() - start
    record = {"momentum": momentum, "seconds_per_epoch": round(seconds / epochs, 1)}
    for key, values in history.history.items():
        record[key] = [round(float(v), 6) for v in values]
    record["train_inference_accuracy"] = probe.accuracy
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=MOMENTUM_ABLATION, help="the JSON file to write"
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    data = load_split_arrays()
    runs = [run(m, data, epochs=args.epochs) for m in MOMENTA]
    result = {
        "recipe": "original: Adam 1e-3, categorical cross-entropy, batch 32, no augmentation",
        "data": f"SIGNS training set split by signer: {len(data[0])} train, {len(data[2])} "
        "validation images",
        "seed": SEED,
        "keras": keras.__version__,
        "machine": cpu_model(),
        "runs": runs,
    }
    write_text_atomic(json.dumps(result, indent=1) + "\n", args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
