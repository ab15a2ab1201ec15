"""The shipped ResNet-50 weights: export as float16 HDF5, verify the pinned SHA-256, load.

The file is a Keras `.weights.h5` whose float32 arrays are stored as float16 (half the size);
`keras.Model.load_weights` casts them back on loading. Loading reads HDF5 arrays only: nothing is
unpickled and no model code comes from the file. Keras matches the file's arrays to the model's
layers by position, so `load_shipped_weights` first checks that the model's layers have the
reference's kinds, shapes and order.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import h5py
import numpy as np

from course_utils.atomic_files import atomic_write
from course_utils.data.manifest import sha256_file
from course_utils.data.paths import ASSETS_DIR
from course_utils.data.split import N_CLASSES
from course_utils.resnet import ResNet50

SHIPPED_WEIGHTS = ASSETS_DIR / "resnet50_signs.weights.h5"
SHIPPED_WEIGHTS_SHA256_FILE = ASSETS_DIR / "resnet50_signs.weights.h5.sha256"
# {"course": history of the shipped weights}: per-epoch lists (loss, accuracy, val_loss,
# val_accuracy, val_mirrored_accuracy on the validation signers) as `train` writes them.
SHIPPED_HISTORY = ASSETS_DIR / "resnet50_signs.history.json"
# The paired runs that justified mirroring in the recipe (`python -m course_tools.mirror_ablation`).
MIRROR_ABLATION = ASSETS_DIR / "mirror_ablation.json"
# The paired runs that isolate BatchNormalization's momentum in the original recipe (chapter 5;
# `python -m course_tools.momentum_ablation`).
MOMENTUM_ABLATION = ASSETS_DIR / "momentum_ablation.json"
# Chapter 9's five networks under its protocol with other seeds (`course_tools.variant_seeds`).
VARIANT_SEEDS = ASSETS_DIR / "variant_seeds.json"
MODEL_CARD = ASSETS_DIR / "resnet50_signs.md"


def export_float16(model, path: Path) -> str:
    """Save `model`'s weights as float16 `.weights.h5` at `path`, atomically; return the SHA-256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=path.parent) as folder:
        full = Path(folder) / "float32.weights.h5"
        model.save_weights(full)

        def write_float16(tmp: Path) -> None:
            with h5py.File(full, "r") as src, h5py.File(tmp, "w") as dst:
                _copy_as_float16(src, dst)

        atomic_write(path, write_float16)
    return sha256_file(path)


def _copy_as_float16(src: h5py.Group, dst: h5py.Group):
    """Copy groups, attributes and datasets, storing float32 arrays as float16."""
    for key, value in src.attrs.items():
        dst.attrs[key] = value
    for key, item in src.items():
        if isinstance(item, h5py.Group):
            _copy_as_float16(item, dst.create_group(key))
        elif item.dtype == np.float32:
            dst.create_dataset(key, data=item[()].astype(np.float16))
        else:
            dst.create_dataset(key, data=item[()])


def weighted_layers(model) -> list[tuple[str, str, tuple[tuple[int, ...], ...]]]:
    """(name, class name, weight shapes) of each layer of `model` that has weights, in the
    order of `model.layers`: the order in which a `.weights.h5` file's arrays are matched."""
    return [
        (layer.name, type(layer).__name__, tuple(tuple(w.shape) for w in layer.weights))
        for layer in model.layers
        if layer.weights
    ]


def layout_problem(model, reference) -> str | None:
    """Why the weights of `reference` would not load correctly into `model`, or None.

    Keras matches a weights file's arrays to layers by their position among the layers of each
    kind, not by their names. So a model whose layers have the reference's kinds and shapes in the
    same order loads correctly, whatever their names; one that creates the same layers in another
    order may load without error but put every array in the wrong layer. The message names the
    first layer that differs.
    """
    mine, theirs = weighted_layers(model), weighted_layers(reference)
    reference_names = {name for name, _, _ in theirs}
    for position, (own, expected) in enumerate(zip(mine, theirs, strict=False)):
        (name, kind, shapes), (expected_name, expected_kind, expected_shapes) = own, expected
        if name != expected_name and name in reference_names:
            return (
                f"its layer {name!r} comes where the reference creates {expected_name!r} (layer "
                f"{position + 1} with weights): the weights load by position, so create the "
                f"layers in the reference's order ({expected_name!r} before {name!r})."
            )
        if (kind, shapes) != (expected_kind, expected_shapes):
            return (
                f"its layer {name!r} ({kind}, weights {list(shapes)}) comes where the reference "
                f"has {expected_name!r} ({expected_kind}, weights {list(expected_shapes)}), layer "
                f"{position + 1} with weights."
            )
    if len(mine) != len(theirs):
        return f"it has {len(mine)} layers with weights, the reference {len(theirs)}."
    return None


def load_shipped_weights(model, path: Path | None = None, expected_sha256: str | None = None):
    """Load the shipped weights into `model`, a ResNet50(input_shape=(64, 64, 3), classes=6):
    the course's or your own, whose layers must have the reference's kinds, shapes and order.

    The file's SHA-256 is checked against the pinned value first, then the model's layers against
    the course's reference ResNet50 (`layout_problem`), so that a model built differently gets a
    message naming its first differing layer instead of silently wrong weights.

    Raises:
        FileNotFoundError: the weights file is missing.
        ValueError: the checksum differs, or the model's layers do not fit the weights.
    """
    path = Path(path or SHIPPED_WEIGHTS)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. The shipped weights come with the course repository "
            "(course_utils/assets); reinstall it, or train your own weights with "
            "`python -m course_utils.training`."
        )
    if expected_sha256 is None and path == SHIPPED_WEIGHTS:
        expected_sha256 = SHIPPED_WEIGHTS_SHA256_FILE.read_text().split()[0]
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            raise ValueError(
                f"{path} has SHA-256 {actual}, expected {expected_sha256}: the file is damaged or "
                "was replaced. Restore it with `git checkout -- course_utils/assets`."
            )
    problem = layout_problem(model, ResNet50(input_shape=(64, 64, 3), classes=N_CLASSES))
    if problem is not None:
        raise ValueError(
            f"the shipped weights do not fit {model.name}: {problem} The shipped weights are "
            "for ResNet50(input_shape=(64, 64, 3), classes=6) as built in chapter 4."
        )
    try:
        model.load_weights(path)
    except (ValueError, KeyError) as error:
        raise ValueError(
            f"{path} does not fit this model ({model.name}, output {tuple(model.output.shape)}): "
            f"{error}. The shipped weights are for ResNet50(input_shape=(64, 64, 3), classes=6)."
        ) from error
    return model
