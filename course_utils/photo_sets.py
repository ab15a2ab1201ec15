"""Photos from anywhere, read as the course's images: one photo (`load_image`), or labelled
photos (`load_labelled_photos`): a folder with one subfolder per digit, or a SIGNS-format HDF5
file (the original assignment's `test_signs.h5`, say).

    load_labelled_photos("my_photos/")        # my_photos/0/*.jpg, my_photos/1/*.png, ...
    load_labelled_photos("test_signs.h5")     # test_set_x, test_set_y (or train_set_*)

Every problem raises one `PhotoSetError` (a ValueError) that names the file or folder and the fix.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from course_utils.data.build import IMAGE_SIZE
from course_utils.data.errors import SignsDataError
from course_utils.data.signs_file import read_signs_file
from course_utils.data.split import N_CLASSES

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FOLDER_FIX = (
    "Fix: give a folder with one subfolder per digit (0, 1, ..., 5) holding its photos "
    "(JPEG or PNG), or a SIGNS .h5 file."
)


class PhotoSetError(ValueError):
    """A set of labelled photos that cannot be read; the message names the problem and the fix."""


class PhotoSet(NamedTuple):
    """Labelled photos prepared as the course's images.

    Attributes:
        images: uint8 (m, 64, 64, 3).
        labels: int64 (m,), the digit of each photo.
        names: (m,) where each photo came from (file path, or `file.h5[i]`).
    """

    images: np.ndarray
    labels: np.ndarray
    names: list[str]


def load_labelled_photos(path: Path | str, n_classes: int = N_CLASSES) -> PhotoSet:
    """Read a folder of photos sorted by digit, or a SIGNS .h5 file.

    Args:
        path: a folder whose subfolders are named by digit (`0` ... `n_classes - 1`; a digit may
            be missing), each holding photos; or an `.h5` file in the SIGNS format.
        n_classes: digits 0..n_classes-1 are known to the network.

    Returns:
        PhotoSet(images uint8 (m, 64, 64, 3), labels (m,), names).

    Raises:
        PhotoSetError: the path is missing, holds no photo, has a subfolder or label that is no
            known digit, a photo cannot be read, or the .h5 file is not SIGNS data.
    """
    path = Path(path)
    if not path.exists():
        raise PhotoSetError(f"{path} does not exist. {FOLDER_FIX}")
    if path.is_dir():
        return _folder(path, n_classes)
    if path.suffix.lower() in {".h5", ".hdf5"}:
        return _signs_file(path, n_classes)
    raise PhotoSetError(f"{path} is neither a folder nor an .h5 file. {FOLDER_FIX}")


def _folder(folder: Path, n_classes: int) -> PhotoSet:
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    known = {str(d) for d in range(n_classes)}
    unknown = [p.name for p in subfolders if p.name not in known]
    if unknown:
        raise PhotoSetError(
            f"{folder} has subfolders {unknown} that are not digits 0-{n_classes - 1}: the network "
            f"reads those digits only. Fix: name each subfolder by its digit, and move other "
            "photos out."
        )
    photos = [
        (int(sub.name), photo)
        for sub in subfolders
        for photo in sorted(sub.iterdir())
        if photo.is_file() and photo.suffix.lower() in PHOTO_SUFFIXES
    ]
    if not photos:
        raise PhotoSetError(f"{folder} holds no photo in a digit subfolder. {FOLDER_FIX}")
    images = []
    for _, photo in photos:
        try:
            images.append(load_image(photo, IMAGE_SIZE))
        except ValueError as error:
            raise PhotoSetError(f"{error} Or remove it from {folder}.") from error
    return PhotoSet(
        np.stack(images),
        np.array([digit for digit, _ in photos], dtype=np.int64),
        [str(photo) for _, photo in photos],
    )


def _signs_file(path: Path, n_classes: int) -> PhotoSet:
    try:
        with h5py.File(path, "r") as f:
            prefixes = [p for p in ("test", "train") if f"{p}_set_x" in f]
    except OSError as error:
        raise PhotoSetError(
            f"{path} is not a readable HDF5 file ({error}). {FOLDER_FIX}"
        ) from error
    if not prefixes:
        raise PhotoSetError(
            f"{path} holds neither test_set_x nor train_set_x: it is not a SIGNS file. {FOLDER_FIX}"
        )
    try:
        signs = read_signs_file(path, prefixes[0])
    except SignsDataError as error:
        raise PhotoSetError(str(error)) from error
    if signs.x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise PhotoSetError(
            f"{path} holds images of shape {signs.x.shape[1:]}; the network reads "
            f"({IMAGE_SIZE}, {IMAGE_SIZE}, 3). Fix: resize them, or save them as photos in digit "
            "subfolders, which are resized when read."
        )
    if signs.y.size and signs.y.max() >= n_classes:
        raise PhotoSetError(
            f"{path} has label {int(signs.y.max())}; the network reads digits 0-{n_classes - 1}. "
            "Fix: keep only the images of those digits."
        )
    names = [f"{path}[{i}]" for i in range(len(signs.y))]
    return PhotoSet(signs.x, signs.y.astype(np.int64), names)


def load_image(source: str | Path | bytes, size: int = IMAGE_SIZE) -> np.ndarray:
    """A photo from a file path or its bytes, prepared as the course's images were.

    The photo is turned upright from its EXIF orientation, converted to RGB, cropped to a centred
    square and resized to size x size with LANCZOS antialiasing.

    Returns:
        uint8 (size, size, 3).

    Raises:
        ValueError: the file is missing or is not an image Pillow can read; the message names it.
    """
    name = "the uploaded bytes" if isinstance(source, bytes) else str(source)
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
        with stream, Image.open(stream) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
            return np.asarray(image, dtype=np.uint8)
    except FileNotFoundError as error:
        raise ValueError(f"{name} does not exist. Fix: give the path of a photo.") from error
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(
            f"{name} is not an image that can be read ({error}). Fix: use a JPEG or PNG photo."
        ) from error
