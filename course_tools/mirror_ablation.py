"""Isolate the mirror augmentation: two short runs of the course recipe that differ only in it.

Both runs train the course's ResNet50 with the course recipe shortened to EPOCHS epochs, from the
same initial weights and in the same batch order, on the 900 training images of
`load_validation_split()`; one never mirrors an image, the other mirrors half of them. After each
epoch the training command records the accuracy on the 180 validation signers and on their
mirror images (`val_accuracy`, `val_mirrored_accuracy`). The test split is not used.

    python -m course_tools.mirror_ablation --work checkpoints/mirror-ablation

Each run is resumable (its checkpoints are in --work). The result, a JSON file of the two
histories, ships with the course (`course_utils/assets/mirror_ablation.json`); chapter 6 plots it.
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
from course_utils.training.recipes import COURSE
from course_utils.training.train import TrainOptions, train
from course_utils.weights import MIRROR_ABLATION

EPOCHS = 6
MIRROR_PROBABILITIES = (0.0, 0.5)


def ablation_recipes(epochs: int = EPOCHS):
    """The course recipe for `epochs` epochs (one of warm-up), without and with mirroring."""
    short = dataclasses.replace(COURSE, epochs=epochs, warmup_epochs=1)
    return [
        dataclasses.replace(short, name=f"course-{epochs}-mirror-{p}", mirror_probability=p)
        for p in MIRROR_PROBABILITIES
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("checkpoints/mirror-ablation"))
    parser.add_argument("--out", type=Path, default=MIRROR_ABLATION, help="the JSON file to write")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    runs = []
    for recipe in ablation_recipes(args.epochs):
        started = time.perf_counter()
        _, history = train(recipe, args.work / recipe.name, TrainOptions(verbose=2))
        runs.append(
            {
                "mirror_probability": recipe.mirror_probability,
                "recipe": dataclasses.asdict(recipe),
                "seconds_in_last_call": round(time.perf_counter() - started, 1),
                **history,
            }
        )
    result = {
        "what": "the course recipe, shortened, without and with mirroring half of the images",
        "data": "load_validation_split(): 900 training images, 180 validation images "
        "(30 signers); val_mirrored_accuracy is measured on their mirror images",
        "keras": keras.__version__,
        "machine": cpu_model(),
        "runs": runs,
    }
    write_text_atomic(json.dumps(result, indent=1) + "\n", args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
