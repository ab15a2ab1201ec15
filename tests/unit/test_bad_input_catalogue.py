"""The catalogue of bad input: every kind of bad file, source, folder, weights file, training run
and learner function the course meets gets one clear error that names the thing at fault and the
fix.

Each row builds one bad input in a temporary folder and says what must be raised and said. The
modules' own tests go deeper into each case; this table is the overview, in one place.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest
from data_helpers import (
    image_path,
    link_tree,
    make_zip,
    original_signs,
    replace_file,
    session_source_copy,
    write_original_pair,
    write_signs_file,
)
from learner_code import grade
from training_helpers import TINY, write_signs
from training_helpers import train_eagerly as _train

from course_utils.data import build
from course_utils.data.errors import SignsDataError
from course_utils.data.manifest import MANIFEST_PATH, read_manifest
from course_utils.data.paths import TEST_FILE, TRAIN_FILE
from course_utils.resnet import ResNet50
from course_utils.resnets_utils import load_dataset
from course_utils.weights import load_shipped_weights


@dataclass(frozen=True)
class Bad:
    """One bad input: ``make(tmp, source)`` builds it and returns (action, thing named)."""

    make: Callable[[Path, Path], tuple[Callable[[], object], str]]
    error: type[BaseException]
    problem: str
    fix: str


# ---------------------------------------------------------------------------------------------
# SIGNS files read by load_dataset


def signs_file(change: Callable[[Path], None], name: str = TRAIN_FILE):
    def make(tmp: Path, _source: Path):
        folder = write_original_pair(tmp / "signs")
        change(folder / name)
        return (lambda: load_dataset(folder)), str(folder / name)

    return make


def rewritten(**changes):
    """Rewrite the train file with some of its arrays changed."""

    def change(path: Path) -> None:
        arrays = {**original_signs(12, seed=0), **changes}
        path.unlink()
        write_signs_file(path, "train", **{k: v for k, v in arrays.items() if v is not None})

    return change


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:2000])


DATA_FIX = "make data"

# ---------------------------------------------------------------------------------------------
# Source images, archives and the cache folder, read and written by prepare


def prepare(source: Path, out: Path, **kwargs):
    return lambda: build.prepare(source, out, progress=False, log=None, **kwargs)


def source_image(damage: Callable[[bytes], bytes], agree_manifest: bool):
    """A source tree with one test image damaged; with ``agree_manifest`` the manifest is made to
    match the damaged file, so that decoding, not the checksum, is what fails."""

    def make(tmp: Path, source: Path):
        tree = link_tree(source, tmp / "source")
        broken = image_path(tree, 1118, 0)
        replace_file(broken, damage(broken.read_bytes()))
        manifest = MANIFEST_PATH
        if agree_manifest:
            entries = read_manifest()
            entries["Dataset/0/IMG_1118.JPG"] = hashlib.sha256(broken.read_bytes()).hexdigest()
            manifest = tmp / "manifest.sha256"
            manifest.write_text("".join(f"{sha}  {p}\n" for p, sha in entries.items()))
        return prepare(tree, tmp / "out", manifest=manifest), str(broken)

    return make


def missing_image(tmp: Path, source: Path):
    tree = link_tree(source, tmp / "source")
    lost = image_path(tree, 1118, 0)
    lost.unlink()
    return prepare(tree, tmp / "out"), str(lost)


def evil_archive(entry: str, symlink: bool):
    def make(tmp: Path, source: Path):
        archive = make_zip(source, tmp / "evil.zip")
        with zipfile.ZipFile(archive, "a") as zf:
            info = zipfile.ZipInfo(entry)
            if symlink:
                info.external_attr = (0o120777 << 16) | 0
            zf.writestr(info, "/etc/passwd" if symlink else "escaped")
        return prepare(archive, tmp / "out"), str(archive)

    return make


def not_a_zip(tmp: Path, _source: Path):
    fake = tmp / "signs.zip"
    fake.write_text("not a zip")
    return prepare(fake, tmp / "out"), str(fake)


def unwritable_cache(tmp: Path, source: Path):
    blocker = tmp / "a-file"
    blocker.write_text("not a folder")
    return prepare(source, blocker / "signs"), str(blocker / "signs")


def full_disk(tmp: Path, source: Path):
    out = tmp / "signs"

    def fill_up(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    def action():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(build, "_write_split", fill_up)
            build.prepare(source, out, progress=False, log=None)

    return action, str(out)


# ---------------------------------------------------------------------------------------------
# Weights files and training


def weights_of(model_factory: Callable[[], keras.Model]):
    def make(tmp: Path, _source: Path):
        keras.backend.clear_session()
        path = tmp / "other.weights.h5"
        model_factory().save_weights(path)
        return (lambda: load_shipped_weights(ResNet50(), path)), str(path)

    return make


def small_model() -> keras.Model:
    inputs = keras.Input((64, 64, 3))
    outputs = keras.layers.Dense(6)(keras.layers.GlobalAveragePooling2D()(inputs))
    return keras.Model(inputs, outputs)


def diverging_training(tmp: Path, _source: Path):
    data = write_signs(tmp / "signs")
    recipe = dataclasses.replace(TINY, name="diverging", learning_rate=1e38, weight_decay=0.0)
    return (lambda: _train(recipe, tmp / "run", data)), "loss"


CATALOGUE = {
    "missing file": Bad(signs_file(Path.unlink), SignsDataError, "is missing", DATA_FIX),
    "missing test file": Bad(
        signs_file(Path.unlink, TEST_FILE), SignsDataError, "is missing", DATA_FIX
    ),
    "empty file": Bad(
        signs_file(lambda p: p.write_bytes(b"")), SignsDataError, "is empty", DATA_FIX
    ),
    "truncated file": Bad(signs_file(truncate), SignsDataError, "not a readable HDF5", DATA_FIX),
    "not HDF5": Bad(
        signs_file(lambda p: p.write_text("x,y\n")), SignsDataError, "not a readable", DATA_FIX
    ),
    "missing key": Bad(
        signs_file(rewritten(x=None)), SignsDataError, "no dataset 'train_set_x'", DATA_FIX
    ),
    "wrong shape": Bad(
        signs_file(rewritten(x=np.zeros((12, 64, 64, 4), np.uint8))),
        SignsDataError,
        "shape (12, 64, 64, 4)",
        DATA_FIX,
    ),
    "wrong dtype": Bad(
        signs_file(rewritten(x=np.zeros((12, 64, 64, 3), np.int16))),
        SignsDataError,
        "dtype int16",
        DATA_FIX,
    ),
    "NaN pixels": Bad(
        signs_file(rewritten(x=np.full((12, 64, 64, 3), np.nan, np.float32))),
        SignsDataError,
        "uint8",
        DATA_FIX,
    ),
    "label out of range": Bad(
        signs_file(rewritten(y=np.full(12, 7))), SignsDataError, "label 7", DATA_FIX
    ),
    "images and labels disagree": Bad(
        signs_file(rewritten(y=np.zeros(10, np.int64))),
        SignsDataError,
        "12 images but train_set_y holds 10 labels",
        DATA_FIX,
    ),
    "corrupt JPG": Bad(
        source_image(lambda data: data[: len(data) // 3], agree_manifest=True),
        SignsDataError,
        "cannot decode",
        "Fix: use an intact copy",
    ),
    "non-image JPG": Bad(
        source_image(lambda data: b"a text file named .JPG\n", agree_manifest=True),
        SignsDataError,
        "cannot decode",
        "Fix: use an intact copy",
    ),
    "checksum mismatch": Bad(
        source_image(lambda data: data[:-10] + bytes(10), agree_manifest=False),
        SignsDataError,
        "differ from the manifest",
        "Fix: use an intact copy",
    ),
    "missing source image": Bad(missing_image, SignsDataError, "missing", "Fix:"),
    "archive with a path-traversal entry": Bad(
        evil_archive("x/Dataset/0/../../../../escaped.JPG", symlink=False),
        SignsDataError,
        "'..'",
        "Fix:",
    ),
    "archive with an absolute entry": Bad(
        evil_archive("/tmp/escaped-catalogue/Dataset/0/IMG_1.JPG", symlink=False),
        SignsDataError,
        "absolute",
        "Fix:",
    ),
    "archive with a symlink": Bad(
        evil_archive("x/Dataset/0/IMG_1.JPG", symlink=True),
        SignsDataError,
        "symbolic link",
        "Fix:",
    ),
    "archive that is not a zip": Bad(not_a_zip, SignsDataError, "not a readable zip", "Fix:"),
    "unwritable cache folder": Bad(
        unwritable_cache, SignsDataError, "cannot create the SIGNS data folder", "--out"
    ),
    "full disk": Bad(full_disk, SignsDataError, "No space left", "check free space"),
    "weights for another class count": Bad(
        weights_of(lambda: ResNet50(classes=10)),
        ValueError,
        "does not fit this model",
        "ResNet50(input_shape=(64, 64, 3), classes=6)",
    ),
    "weights for another architecture": Bad(
        weights_of(small_model),
        ValueError,
        "does not fit this model",
        "ResNet50(input_shape=(64, 64, 3), classes=6)",
    ),
    "NaN loss in training": Bad(
        diverging_training, FloatingPointError, "training diverged", "Lower the learning rate"
    ),
}


@pytest.mark.parametrize("case", list(CATALOGUE), ids=list(CATALOGUE))
def test_bad_input_raises_one_error_naming_the_thing_and_the_fix(case, tmp_path_factory, tmp_path):
    bad = CATALOGUE[case]
    source = session_source_copy(tmp_path_factory)
    action, thing = bad.make(tmp_path, source)
    with pytest.raises(bad.error) as info:
        action()
    message = str(info.value)
    assert thing in message
    assert bad.problem in message
    assert bad.fix in message
    assert not Path("/tmp/escaped-catalogue").exists()


LEARNER_MISTAKES = {
    "raises": (lambda *a, **k: 1 / 0, "raised ZeroDivisionError: division by zero"),
    "returns the wrong type": (lambda *a, **k: "X", "returned str"),
    "returns nothing": (lambda *a, **k: None, "returned NoneType"),
}


@pytest.mark.parametrize("mistake", list(LEARNER_MISTAKES))
@pytest.mark.parametrize("function", ["identity_block", "convolutional_block", "ResNet50"])
def test_learner_code_that_breaks_is_reported_not_raised(function, mistake):
    learner, said = LEARNER_MISTAKES[mistake]
    passed, printed = grade(function, learner)
    assert passed is False and said in printed


def test_the_catalogue_covers_at_least_20_bad_inputs():
    assert len(CATALOGUE) + len(LEARNER_MISTAKES) >= 20
