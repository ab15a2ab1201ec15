"""Which Sign Language Digits images go to the SIGNS training set and which to the test set.

`compute_split` is a pure function of the dataset's (file number, digit) list; its rule, recorded
in the built files as `SPLIT_RULE`:

* Classes are the digits 0-5. A signer photographed digits 0..9 one after another, so the files of
  one signer share the key `number - digit`.
* Test: 20 signers whose key holds all ten digits and no other key lies within 9 of theirs (so a
  signer whose numbering skipped or repeated a file cannot reach the other side). Of the N such
  keys in capture order, those at index (2i + 1) * N // 40, i = 0..19, are taken: evenly spaced,
  no randomness. Their digits 0-5 give exactly 20 test images per digit.
* Train: every other key's images; 180 per digit, dropping each digit's E extras at the evenly
  spaced positions (2j + 1) * M // (2E), j = 0..E-1, of its M candidates in file-number order.
* No key is on both sides and no image is in both sets. Like the original files, each set is then
  shuffled: train by `numpy.random.default_rng(1).permutation(1080)`, test by the same generator's
  next `permutation(120)`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

ALL_DIGITS = tuple(range(10))
CLASSES = (0, 1, 2, 3, 4, 5)
# The number of classes: the one definition, which every other module imports.
N_CLASSES = len(CLASSES)
N_TEST_SIGNERS = 20
N_VALIDATION_SIGNERS = 30
TRAIN_PER_CLASS = 180
SPLIT_SEED = 1
SPLIT_RULE = (
    "v1: digits 0-5; signer key = file number - digit; test = 20 keys holding all ten digits with "
    "no other key within 9, at index (2i+1)*N//40 of the N such keys in capture order; train = all "
    "other keys, 180 per digit, extras dropped at positions (2j+1)*M//(2E) in file-number order; "
    "order shuffled by numpy default_rng(1).permutation (train, then test)"
)

# A source image's path relative to the dataset folder: group 1 the digit, group 2 the number.
IMAGE_PATH_RE = re.compile(r"Dataset/([0-9])/IMG_([0-9]+)\.JPG")


class ImageId(NamedTuple):
    """One source image, `Dataset/<digit>/IMG_<number>.JPG`; sorts in capture order."""

    number: int
    digit: int

    @property
    def key(self) -> int:
        """The signer key: every image of one signer shares `number - digit`."""
        return self.number - self.digit

    @property
    def relpath(self) -> str:
        return f"Dataset/{self.digit}/IMG_{self.number}.JPG"

    def path_in(self, images_dir: Path) -> Path:
        """The image's file in a folder of digit subfolders `0/` .. `9/`."""
        return images_dir / str(self.digit) / f"IMG_{self.number}.JPG"


@dataclass(frozen=True)
class Split:
    """The images of each set, in stored (shuffled) order, and the signer keys held out for test."""

    train: tuple[ImageId, ...]
    test: tuple[ImageId, ...]
    test_signers: tuple[int, ...]


def parse_image_path(relpath: str) -> ImageId:
    """`Dataset/<digit>/IMG_<number>.JPG` -> ImageId; ValueError for any other path."""
    match = IMAGE_PATH_RE.fullmatch(relpath)
    if match is None:
        raise ValueError(f"not a Dataset/<digit>/IMG_<n>.JPG path: {relpath!r}")
    return ImageId(number=int(match[2]), digit=int(match[1]))


def compute_split(
    images: Iterable[tuple[int, int]],
    *,
    classes: Sequence[int] = CLASSES,
    n_test_signers: int = N_TEST_SIGNERS,
    train_per_class: int = TRAIN_PER_CLASS,
    seed: int = SPLIT_SEED,
) -> Split:
    """Split (number, digit) pairs of the whole dataset (all ten digits) into train and test.

    The rule is described in the module docstring. The result depends only on the set of pairs,
    not on their order. Raises ValueError if a file number repeats or there are too few signers
    or images for the requested sizes.
    """
    ids = sorted({ImageId(int(n), int(d)) for n, d in images})
    if len({i.number for i in ids}) != len(ids):
        raise ValueError("a file number appears under two digits")
    groups: dict[int, list[ImageId]] = defaultdict(list)
    for image in ids:
        groups[image.key].append(image)

    test_keys = _pick_test_signers(groups, n_test_signers)
    wanted = set(classes)
    test = [i for k in test_keys for i in groups[k] if i.digit in wanted]
    train: list[ImageId] = []
    for digit in classes:
        pool = [i for i in ids if i.digit == digit and i.key not in test_keys]
        if len(pool) < train_per_class:
            raise ValueError(
                f"digit {digit} has {len(pool)} training images, {train_per_class} needed"
            )
        train.extend(_drop_evenly(pool, len(pool) - train_per_class))

    rng = np.random.default_rng(seed)
    train, test = sorted(train), sorted(test)
    train_order = rng.permutation(len(train))
    test_order = rng.permutation(len(test))
    return Split(
        train=tuple(train[j] for j in train_order),
        test=tuple(test[j] for j in test_order),
        test_signers=tuple(sorted(test_keys)),
    )


def _pick_test_signers(groups: Mapping[int, list[ImageId]], n: int) -> list[int]:
    keys = set(groups)
    eligible = [
        k
        for k in sorted(groups)
        if sorted(i.digit for i in groups[k]) == list(ALL_DIGITS)
        and not any(k + offset in keys for offset in range(-9, 10) if offset)
    ]
    if len(eligible) < n:
        raise ValueError(f"{len(eligible)} complete, isolated signers; {n} needed for the test set")
    return [eligible[(2 * i + 1) * len(eligible) // (2 * n)] for i in range(n)]


def _drop_evenly(items: list[ImageId], n_drop: int) -> list[ImageId]:
    if n_drop <= 0:
        return list(items)
    drop = {(2 * j + 1) * len(items) // (2 * n_drop) for j in range(n_drop)}
    return [item for position, item in enumerate(items) if position not in drop]


def validation_positions(
    file_numbers: Sequence[int], labels: Sequence[int], n_signers: int = N_VALIDATION_SIGNERS
) -> tuple[np.ndarray, np.ndarray]:
    """Split a training set by signer into the images to train on and those to validate on.

    The validation signers are `n_signers` keys (`number - digit`) that hold one image of each
    class present and have no other key within 9 file numbers, taken at evenly spaced positions of
    the eligible keys in capture order, as for the test set. No randomness: the split is a
    function of the files.

    Args:
        file_numbers: (m,) the `<n>` of each image's `IMG_<n>.JPG`, as stored in the SIGNS files.
        labels: (m,) the digit of each image.
        n_signers: how many signers to hold out for validation.

    Returns:
        (train_positions (m - v,), validation_positions (v,)): int64 positions into the arrays,
        in increasing order, with v = n_signers x the number of classes.

    Raises:
        ValueError: the arrays differ in length, or fewer than `n_signers` signers are eligible.
    """
    numbers, digits = np.asarray(file_numbers).ravel(), np.asarray(labels).ravel()
    if numbers.shape != digits.shape:
        raise ValueError(f"{numbers.size} file numbers but {digits.size} labels")
    keys = numbers - digits
    all_keys = set(keys.tolist())
    classes = sorted(set(digits.tolist()))
    eligible = [
        k
        for k in sorted(all_keys)
        if sorted(digits[keys == k].tolist()) == classes
        and not any(k + offset in all_keys for offset in range(-9, 10) if offset)
    ]
    if len(eligible) < n_signers:
        raise ValueError(
            f"{len(eligible)} complete, isolated signers in the training set; {n_signers} needed"
        )
    chosen = [eligible[(2 * i + 1) * len(eligible) // (2 * n_signers)] for i in range(n_signers)]
    held_out = np.isin(keys, chosen)
    return np.flatnonzero(~held_out), np.flatnonzero(held_out)
