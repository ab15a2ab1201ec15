"""Build the course's SIGNS data folder from the Sign Language Digits images, once.

`prepare` verifies the images of digits 0-5 against the manifest, decodes them (Pillow, RGB,
LANCZOS resize 100x100 -> 64x64, uint8), splits them (`split.compute_split`) and writes
`train_signs.h5` and `test_signs.h5` in the original SIGNS format (`signs_file.py`), plus a
dataset `file_numbers` (the `<n>` of each image's `IMG_<n>.JPG`) and provenance attributes.
`ensure_signs_data` is what the chapters call: it builds the folder only if it needs it.

Writes are atomic: both files are written to temporary files in the output folder and fsynced,
then renamed into place; the completion stamp `signs_cache.json` (SHA-256 of both files, the
manifest's SHA-256 and `FORMAT_VERSION`) is written last, the same way. Only a folder whose stamp
matches its files counts as up to date. A lock on `<out>/.prepare.lock` serialises concurrent runs.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import filelock
import h5py
import numpy as np
from PIL import Image
from tqdm import tqdm

from course_utils.atomic_files import atomic_write, fsync, temp_path
from course_utils.data.errors import SignsDataError
from course_utils.data.manifest import (
    MANIFEST_PATH,
    read_manifest,
    read_verified_images,
    sha256_file,
)
from course_utils.data.paths import TEST_FILE, TRAIN_FILE, default_data_dir
from course_utils.data.source import (
    DATASET_CREDIT,
    Log,
    default_source,
    intact_copy_fix,
    open_source,
)
from course_utils.data.split import CLASSES, SPLIT_RULE, ImageId, compute_split, parse_image_path

IMAGE_SIZE = 64
# Bump when the split rule, image processing or file layout changes: existing caches then rebuild.
FORMAT_VERSION = 1
# Written into every file built here; files carrying it (or an earlier name) are ours to replace.
BUILDER = "course_utils.data"
EARLIER_BUILDER_NAMES = ("course_utils.signs_dataset",)

STAMP_FILE = "signs_cache.json"
LOCK_FILE = ".prepare.lock"
LOCK_TIMEOUT_S = 600.0

# One split's arrays: images (m, 64, 64, 3) uint8, labels (m,) int64, file numbers (m,) int64.
SplitArrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class PrepareResult:
    """What `prepare` did: `built` is False when the folder was already up to date."""

    out: Path
    built: bool


# ---------------------------------------------------------------------------------------------
# Images


def decode_image(data: bytes, name: str | Path, size: int = IMAGE_SIZE) -> np.ndarray:
    """Decode image bytes to RGB and resize with LANCZOS: uint8 array of shape (size, size, 3)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise SignsDataError(f"cannot decode the image {name}: {e}. " + intact_copy_fix()) from e
    return np.asarray(rgb, dtype=np.uint8)


def decode_images(
    images: Sequence[ImageId],
    data: Mapping[ImageId, bytes],
    images_dir: Path,
    *,
    desc: str = "decode",
    progress: bool = False,
) -> np.ndarray:
    """Decode `images` in order: uint8 array (m, 64, 64, 3)."""
    rows = [
        decode_image(data[i], i.path_in(images_dir))
        for i in tqdm(images, desc=desc, unit="img", disable=not progress)
    ]
    return np.stack(rows).astype(np.uint8, copy=False)


# ---------------------------------------------------------------------------------------------
# The cache folder


def cache_is_current(out: Path | str, manifest: Path | str = MANIFEST_PATH) -> bool:
    """True if `out` holds both files and a stamp that matches them, this format and manifest."""
    out = Path(out)
    try:
        stamp = json.loads((out / STAMP_FILE).read_text(encoding="utf-8"))
        return (
            isinstance(stamp, dict)
            and stamp.get("format_version") == FORMAT_VERSION
            and stamp.get("manifest_sha256") == sha256_file(Path(manifest))
            and stamp.get("files")
            == {name: sha256_file(out / name) for name in (TRAIN_FILE, TEST_FILE)}
        )
    except (OSError, ValueError):
        return False


def foreign_files(out: Path | str) -> list[Path]:
    """SIGNS files in `out` that this module did not write (e.g. the original Coursera files).

    Empty when `out` holds a stamp of ours: files left by our own interrupted builds are ours.
    """
    out = Path(out)
    if (out / STAMP_FILE).exists():
        return []
    return [out / n for n in (TRAIN_FILE, TEST_FILE) if (out / n).exists() and not _ours(out / n)]


def _ours(path: Path) -> bool:
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("builder") in (BUILDER, *EARLIER_BUILDER_NAMES)
    except (OSError, ValueError):
        return False


def ensure_signs_data(data_dir: Path | str | None = None, source: Path | str | None = None) -> Path:
    """Return the SIGNS data folder, building it first (one printed line) if empty or incomplete.

    A folder with an up-to-date stamp, or with SIGNS files that this module did not write (the
    original files), is used as it is. `data_dir` defaults to `paths.default_data_dir()`.
    """
    out = Path(data_dir) if data_dir is not None else default_data_dir()
    if cache_is_current(out) or foreign_files(out):
        return out
    source = default_source() if source is None else source
    print(
        f"SIGNS data in {out} is missing or incomplete: building it from {source} ...", flush=True
    )
    prepare(source, out, progress=False, log=None)
    return out


def prepare(
    source: Path | str | None = None,
    out: Path | str | None = None,
    *,
    force: bool = False,
    manifest: Path | str = MANIFEST_PATH,
    progress: bool = True,
    log: Log = print,
) -> PrepareResult:
    """Build `train_signs.h5`, `test_signs.h5` and the stamp in `out` unless already up to date.

    `source` defaults to `source.default_source()`, `out` to `paths.default_data_dir()`.
    Raises SignsDataError (naming the file and the fix) for an unusable source, an image that is
    missing or does not match the manifest, or an output folder that cannot be written. On
    failure `out` is left as it was.
    """
    out = Path(out) if out is not None else default_data_dir()
    _make_folder(out)
    if not force and cache_is_current(out, manifest):
        _say(log, f"SIGNS data up to date in {out}")
        return PrepareResult(out, built=False)
    with _locked(out):
        if not force and cache_is_current(out, manifest):
            _say(log, f"SIGNS data up to date in {out}")
            return PrepareResult(out, built=False)
        foreign = foreign_files(out)
        if foreign and not force:
            raise SignsDataError(
                f"{', '.join(map(str, foreign))}: not written by this tool (perhaps the original "
                "SIGNS files); refusing to replace. Fix: pass --force (prepare(force=True)) to "
                "replace them, or choose another --out."
            )
        _remove_stale_temporaries(out)
        source = default_source() if source is None else source
        _say(log, f"Building SIGNS data in {out} from {source}")
        arrays = _build_arrays(source, Path(manifest), progress, log)
        _write_cache(out, arrays, source, Path(manifest))
        _say(
            log,
            f"Wrote {out / TRAIN_FILE} ({len(arrays['train'][1])} images) and "
            f"{out / TEST_FILE} ({len(arrays['test'][1])} images)",
        )
    return PrepareResult(out, built=True)


def _remove_stale_temporaries(out: Path) -> None:
    """Delete temporary files left by a preparation that was killed (a kill skips its clean-up).

    Called with the lock held, so no other preparation is writing them.
    """
    for name in (TRAIN_FILE, TEST_FILE, STAMP_FILE):
        for stale in out.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)


def _say(log: Log, message: str) -> None:
    if log:
        log(message)


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SignsDataError(
            f"cannot create the SIGNS data folder {out}: {e}. Fix: choose a writable folder with "
            "--out (or SIGNS_DATA_DIR), or fix its permissions."
        ) from e


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    lock = filelock.FileLock(str(out / LOCK_FILE), timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except filelock.Timeout as e:
        raise SignsDataError(
            f"{out / LOCK_FILE} is held by another preparation for {LOCK_TIMEOUT_S:.0f} s. Fix: "
            "wait for it, or delete the lock file if no other preparation is running."
        ) from e
    except OSError as e:
        raise SignsDataError(
            f"cannot write in the SIGNS data folder {out}: {e}. Fix: choose a writable folder "
            "with --out (or SIGNS_DATA_DIR), or fix its permissions."
        ) from e
    try:
        yield
    finally:
        lock.release()


def _build_arrays(
    source: Path | str, manifest: Path, progress: bool, log: Log
) -> dict[str, SplitArrays]:
    """{"train": SplitArrays (m = 1080), "test": SplitArrays (m = 120)}."""
    entries = read_manifest(manifest)
    split = compute_split(parse_image_path(p) for p in entries)
    with open_source(source, log=log, progress=progress) as images_dir:
        data = read_verified_images(images_dir, entries, CLASSES, progress=progress)
        arrays = {}
        for name, images in (("train", split.train), ("test", split.test)):
            x = decode_images(images, data, images_dir, desc=name, progress=progress)
            y = np.array([i.digit for i in images], dtype=np.int64)
            numbers = np.array([i.number for i in images], dtype=np.int64)
            arrays[name] = (x, y, numbers)
    return arrays


def _write_cache(
    out: Path,
    arrays: Mapping[str, SplitArrays],
    source: Path | str,
    manifest: Path,
) -> None:
    attrs = {
        "builder": BUILDER,
        "format_version": FORMAT_VERSION,
        "dataset": DATASET_CREDIT,
        "source": str(source),
        "manifest_sha256": sha256_file(manifest),
        "split_rule": SPLIT_RULE,
        "image_processing": f"Pillow RGB, LANCZOS resize to {IMAGE_SIZE}x{IMAGE_SIZE}, uint8",
    }
    staged: list[tuple[Path, Path]] = []
    try:
        for name, filename in (("train", TRAIN_FILE), ("test", TEST_FILE)):
            tmp = temp_path(out / filename)
            staged.append((tmp, out / filename))
            _write_split(tmp, name, *arrays[name], attrs)
            fsync(tmp)
        for tmp, final in staged:
            os.replace(tmp, final)
        fsync(out)
        stamp = {
            "format_version": FORMAT_VERSION,
            "builder": BUILDER,
            "manifest_sha256": attrs["manifest_sha256"],
            "split_rule": SPLIT_RULE,
            "files": {final.name: sha256_file(final) for _, final in staged},
        }
        text = json.dumps(stamp, indent=2, sort_keys=True) + "\n"
        atomic_write(out / STAMP_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as e:
        raise SignsDataError(
            f"cannot write the SIGNS data files in {out}: {e}. Fix: check free space and "
            "permissions, or choose another folder with --out (or SIGNS_DATA_DIR)."
        ) from e
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def _write_split(
    path: Path,
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    numbers: np.ndarray,
    attrs: Mapping[str, object],
) -> None:
    """One SIGNS file: `<name>_set_x` (m, 64, 64, 3) uint8, `<name>_set_y` (m,) int64,
    `list_classes` (6,) int64, `file_numbers` (m,) int64, provenance attributes."""
    with h5py.File(path, "w-") as f:
        f.create_dataset(f"{name}_set_x", data=x, dtype=np.uint8)
        f.create_dataset(f"{name}_set_y", data=y, dtype=np.int64)
        f.create_dataset("list_classes", data=np.array(CLASSES, dtype=np.int64))
        f.create_dataset("file_numbers", data=numbers, dtype=np.int64)
        f.attrs.update(attrs)
