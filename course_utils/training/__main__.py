"""Train a recipe of the course from the command line, with a checkpoint per epoch; run again with
the same --out, it resumes after the last complete epoch.

    python -m course_utils.training --out checkpoints/course             # the course recipe
    python -m course_utils.training --recipe original --out checkpoints/original
    python -m course_utils.training --recipe short --out /tmp/short      # 2 epochs, to try it out
    python -m course_utils.training --out checkpoints/course --export my_weights.weights.h5
    python -m course_utils.training --strategy mirrored --out checkpoints/gpus  # every local GPU
    python -m course_utils.training --strategy mirrored --cpu-devices 2 --out /tmp/two
    TF_CONFIG='{...}' python -m course_utils.training --strategy multi_worker --out /shared/run
    python -m course_utils.training --stream --out checkpoints/streamed  # data streamed from files
    python -m course_utils.training --out checkpoints/course --tensorboard runs/course
    tensorboard --logdir runs/course                                     # watch it in a browser

Every run trains on the 900 images of `load_validation_split()` and reports, after each epoch,
the accuracy on its 180 validation signers (`val_accuracy`) and on their mirror images
(`val_mirrored_accuracy`). The test split is never read here: measure it once, at the end, with
`python -m course_utils.evaluate`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_utils.training.distributed import STRATEGIES, is_chief, make_strategy
from course_utils.training.recipes import RECIPES, SHORT
from course_utils.training.train import TrainOptions, train


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.training",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        default="course",
        help="the training recipe (default: %(default)s); "
        f"{SHORT.name} is the course recipe for {SHORT.epochs} epochs, "
        "a quick way to see the command work end to end",
    )
    parser.add_argument("--out", type=Path, default=Path("checkpoints/course"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="stop after this many epochs in this call (resume later)",
    )
    parser.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        metavar="DIR",
        help="write TensorBoard logs (loss, accuracy, validation accuracy, mirrored validation "
        "accuracy per epoch) into DIR; watch them with `tensorboard --logdir DIR`",
    )
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        help="write the trained weights as float16 .weights.h5 here",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=None,
        help="train with this tf.distribute strategy (multi_worker: the cluster in TF_CONFIG; "
        "default: one device); the recipe's batch size is per replica and the learning rate "
        "x replicas",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        default=None,
        help="split the CPU into this many logical devices (try --strategy mirrored without GPUs)",
    )
    parser.add_argument(
        "--no-lr-scaling",
        action="store_true",
        help="keep the recipe's learning rate with several replicas (default: x replicas)",
    )
    parser.add_argument(
        "--sync-batchnorm",
        action="store_true",
        help="average BatchNormalization statistics over all replicas",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="stream the data from the SIGNS files with tf.data instead of loading it",
    )
    args = parser.parse_args(argv)
    if args.cpu_devices is not None and args.strategy != "mirrored":
        parser.error("--cpu-devices goes with --strategy mirrored")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    recipe = RECIPES[args.recipe]
    # A multi-worker strategy is created first, before any other TensorFlow work.
    strategy = make_strategy(args.strategy or "default", args.cpu_devices)
    options = TrainOptions(
        data_dir=args.data_dir,
        max_epochs=args.max_epochs,
        strategy=strategy,
        scale_learning_rate=not args.no_lr_scaling,
        stream=args.stream,
        sync_batchnorm=args.sync_batchnorm,
        tensorboard_dir=args.tensorboard,
    )
    started = time.perf_counter()
    resnet, history = train(recipe, args.out, options)
    elapsed = time.perf_counter() - started
    if history.get("val_accuracy"):
        print(
            f"{recipe.name}: {len(history['val_accuracy'])} epochs, validation accuracy "
            f"{history['val_accuracy'][-1]:.4f} (mirrored "
            f"{history['val_mirrored_accuracy'][-1]:.4f}), {elapsed:.0f} s in this call"
        )
    if args.export and is_chief(strategy):
        from course_utils.weights import export_float16

        export_float16(resnet, args.export)
        print(f"Wrote {args.export}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
