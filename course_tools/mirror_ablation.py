"""Isolate the mirror augmentation: two paired fine-tunes that differ only in it.

Both runs start from the same weights of a network trained without mirror images (the course's
previous shipped weights, which read 64.2% of the mirrored test split), and fine-tune them with
the course recipe for EPOCHS epochs at a tenth of its learning rate, in the same batch order, on
the 900 training images of `load_validation_split()`: one never mirrors an image, the other
mirrors half of them. After each epoch the training command records the accuracy on the 180
validation signers and on their mirror images (`val_accuracy`, `val_mirrored_accuracy`). The test
split is not used. (The previous weights were trained on all 1080 training images, the validation
signers' photos among them, but never on a mirror image: the mirrored validation images are new
to them, the unmirrored ones are not.)

    git show 7d67396:course_utils/assets/resnet50_signs.weights.h5 > previous.weights.h5
    python -m course_tools.mirror_ablation --start previous.weights.h5

Each run is resumable (its checkpoints are in --work). The result, a JSON file of the two
histories and the starting point's own figures, ships with the course
(`course_utils/assets/mirror_ablation.json`); chapter 6 plots it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import keras

from course_tools.machine import cpu_model
from course_utils.atomic_files import write_text_atomic
from course_utils.data.manifest import sha256_file
from course_utils.evaluate import mirror_images, predict_probabilities
from course_utils.resnet import ResNet50
from course_utils.resnets_utils import load_validation_split
from course_utils.training.recipes import COURSE
from course_utils.training.train import TrainOptions, train
from course_utils.weights import MIRROR_ABLATION

EPOCHS = 3
MIRROR_PROBABILITIES = (0.0, 0.5)


def ablation_recipes(epochs: int = EPOCHS):
    """The course recipe as a fine-tune (`epochs` epochs, no warm-up, a tenth of the learning
    rate), without and with mirroring."""
    finetune = dataclasses.replace(
        COURSE, epochs=epochs, warmup_epochs=0, learning_rate=COURSE.learning_rate / 10
    )
    return [
        dataclasses.replace(finetune, name=f"finetune-{epochs}-mirror-{p}", mirror_probability=p)
        for p in MIRROR_PROBABILITIES
    ]


def starting_point(weights: Path) -> dict:
    """The starting weights' accuracy on the validation signers and on their mirror images."""
    model = ResNet50()
    model.load_weights(weights)
    _, _, x_val, y_val = load_validation_split()

    def accuracy(images) -> float:
        predicted = predict_probabilities(model, images).argmax(axis=1)
        return round(float((predicted == y_val.ravel()).mean()), 6)

    return {
        "weights_sha256": sha256_file(weights),
        "val_accuracy": accuracy(x_val),
        "val_mirrored_accuracy": accuracy(mirror_images(x_val)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--start", type=Path, required=True, help="the .weights.h5 file both runs start from"
    )
    parser.add_argument("--work", type=Path, default=Path("checkpoints/mirror-ablation"))
    parser.add_argument("--out", type=Path, default=MIRROR_ABLATION, help="the JSON file to write")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    start = starting_point(args.start)
    runs = []
    for recipe in ablation_recipes(args.epochs):
        keras.backend.clear_session()
        started = time.perf_counter()
        options = TrainOptions(verbose=2, initial_weights=args.start)
        _, history = train(recipe, args.work / recipe.name, options)
        runs.append(
            {
                "mirror_probability": recipe.mirror_probability,
                "recipe": dataclasses.asdict(recipe),
                "seconds_in_last_call": round(time.perf_counter() - started, 1),
                **history,
            }
        )
    result = {
        "what": "two fine-tunes of weights trained without mirror images, with the course "
        "recipe at a tenth of its learning rate, without and with mirroring half of the images",
        "data": "load_validation_split(): 900 training images, 180 validation images "
        "(30 signers); val_mirrored_accuracy is measured on their mirror images",
        "start": start,
        "keras": keras.__version__,
        "machine": cpu_model(),
        "runs": runs,
    }
    write_text_atomic(json.dumps(result, indent=1) + "\n", args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
