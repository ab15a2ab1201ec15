"""Chapter 9's five networks under its protocol, again with other seeds: the spread between runs.

Chapter 9 trains ResNet-50 v1, v1.5 and pre-activation, ResNet-18 and ResNet-34 once each,
with `brief_runs.train_briefly` (`BRIEF_EPOCHS` epochs on the 900 training images, the 180
validation images of 30 other signers evaluated after each epoch). This command repeats those
runs with the course's reference blocks for each of SEEDS: the seed sets the order of the
mini-batches and, through `reseed=True`, the initial kernels. The test set is not used.

    python -m course_tools.variant_seeds

After each run the JSON file is rewritten (atomically), and a run already in it is skipped, so
an interrupted command continues where it stopped. The result ships with the course
(`course_utils/assets/variant_seeds.json`); chapter 9 shows its range beside the learner's run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import keras

from course_tools.machine import cpu_model
from course_utils import variants
from course_utils.atomic_files import write_text_atomic
from course_utils.resnet import ResNet50
from course_utils.training.brief_runs import BRIEF_EPOCHS, load_split_arrays, train_briefly
from course_utils.weights import VARIANT_SEEDS

SEEDS = (1, 2)

# The networks of chapter 9, built from the course's reference blocks.
BUILDERS = {
    "ResNet-50 v1": ResNet50,
    "ResNet-50 v1.5": variants.ResNet50_v1_5,
    "ResNet-50 pre-activation": variants.ResNet50_preactivation,
    "ResNet-18": variants.ResNet18,
    "ResNet-34": variants.ResNet34,
}

KEPT = (
    "parameters",
    "epoch_seconds",
    "final_val_accuracy",
    "val_correct",
    "n_val",
    "val_predicted",
)


def load_runs(path: Path) -> list[dict]:
    """The runs already recorded in `path`, or none."""
    if not path.exists():
        return []
    return json.loads(path.read_text())["runs"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=VARIANT_SEEDS, help="the JSON file to write")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    args = parser.parse_args(argv)
    data = load_split_arrays()
    runs = load_runs(args.out)
    done = {(run["network"], run["seed"]) for run in runs}
    for seed in args.seeds:
        for network, build in BUILDERS.items():
            if (network, seed) in done:
                continue
            print(f"{network}, seed {seed}", flush=True)
            result = train_briefly(build, data, BRIEF_EPOCHS, seed, verbose=2, reseed=True)
            run = {"network": network, "seed": seed, **{key: result[key] for key in KEPT}}
            run["val_accuracy"] = result["history"]["val_accuracy"]
            runs.append(run)
            record = {
                "what": "chapter 9's networks under train_briefly's protocol, reference blocks, "
                "the seed setting the batch order and the initial kernels (reseed=True)",
                "data": "load_validation_split(): 900 training images, 180 validation images "
                "(30 signers); val_predicted lists the class predicted for each validation image",
                "epochs": BRIEF_EPOCHS,
                "keras": keras.__version__,
                "machine": cpu_model(),
                "runs": runs,
            }
            write_text_atomic(json.dumps(record, indent=1) + "\n", args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
