"""Build the course's SIGNS data files from the Sign Language Digits Dataset.

Command line:

    python -m course_utils.data.signs_dataset prepare [--source DIR_OR_ZIP_OR_URL] [--out DIR] [--force]
    python -m course_utils.data.signs_dataset manifest [--source DIR] [--out FILE]

`prepare` writes `train_signs.h5` and `test_signs.h5` in the format of the original SIGNS files
(`train_set_x` uint8 (1080, 64, 64, 3), `train_set_y` int64 (1080,), `list_classes` int64 (6,),
and likewise `test_set_x` (120, 64, 64, 3), `test_set_y` (120,)), plus a dataset `file_numbers`
(the `<n>` of each image's `IMG_<n>.JPG`) and provenance attributes. Defaults: `--source`
`paths.default_source_dir()` (if that folder is missing and $SIGN_DIGITS_SOURCE is unset, the
pinned archive `DEFAULT_SOURCE_URL`), `--out` `paths.default_data_dir()`.

Source: the dataset folder (holding `Dataset/`), the `Dataset/` folder itself, a `.zip` of either,
or an `http://`, `https://` or `file://` URL of such a zip (GitHub's archive of the pinned commit is
`DEFAULT_SOURCE_URL`). Archives are extracted into a temporary folder, refusing absolute, `..` and
symlink entries; only `*/Dataset/<digit>/IMG_<n>.JPG` members are extracted. Archive bytes are not
stable, so integrity means: every image of the digits used matches the SHA-256 in the committed
manifest `course_utils/assets/sign_language_digits.sha256` (`sha256sum` format, all 2062 images).

Images: decoded with Pillow, converted to RGB, resized 100x100 -> 64x64 with LANCZOS, uint8.

Split (`compute_split`, a pure function of the manifest's (number, digit) list; rule `SPLIT_RULE`):

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

Writes are atomic: both files are written to temporary files in the output folder and fsynced,
then renamed into place; the completion stamp `signs_cache.json` (SHA-256 of both files, the
manifest's SHA-256 and `FORMAT_VERSION`) is written last, the same way. Only a folder whose stamp
matches its files counts as up to date. A lock on `<out>/.prepare.lock` serialises concurrent runs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import stat
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import filelock
import h5py
import numpy as np
from PIL import Image
from tqdm import tqdm

from course_utils.atomic_files import atomic_write, fsync, temp_path
from course_utils.data.errors import SignsDataError
from course_utils.data.paths import (
    ASSETS_DIR,
    TEST_FILE,
    TRAIN_FILE,
    default_data_dir,
    default_source_dir,
)

DEFAULT_SOURCE_URL = (
    "https://github.com/ardamavi/Sign-Language-Digits-Dataset/archive/"
    "4b09433ef9d5c60602e8805bb54b8aa2428527f8.zip"
)
MANIFEST_PATH = ASSETS_DIR / "sign_language_digits.sha256"
DATASET_CREDIT = (
    "Sign Language Digits Dataset, Turkey Ankara Ayranci Anadolu High School, "
    "github.com/ardamavi/Sign-Language-Digits-Dataset@4b09433ef9d5, Apache-2.0; "
    "cite Mavi 2020, arXiv:2011.08927"
)

ALL_DIGITS = tuple(range(10))
CLASSES = (0, 1, 2, 3, 4, 5)
IMAGE_SIZE = 64
N_TEST_SIGNERS = 20
TRAIN_PER_CLASS = 180
SPLIT_SEED = 1
SPLIT_RULE = (
    "v1: digits 0-5; signer key = file number - digit; test = 20 keys holding all ten digits with "
    "no other key within 9, at index (2i+1)*N//40 of the N such keys in capture order; train = all "
    "other keys, 180 per digit, extras dropped at positions (2j+1)*M//(2E) in file-number order; "
    "order shuffled by numpy default_rng(1).permutation (train, then test)"
)
# Bump when the split rule, image processing or file layout changes: existing caches then rebuild.
FORMAT_VERSION = 1
BUILDER = "course_utils.data.signs_dataset"

STAMP_FILE = "signs_cache.json"
LOCK_FILE = ".prepare.lock"
LOCK_TIMEOUT_S = 600.0
DOWNLOAD_TIMEOUT_S = 60.0
MAX_DOWNLOAD_BYTES = 1 << 30
MAX_IMAGE_BYTES = 1 << 22

_IMAGE_PATH_RE = re.compile(r"Dataset/([0-9])/IMG_([0-9]+)\.JPG")
_ARCHIVE_MEMBER_RE = re.compile(r"(?:.+/)?(Dataset/[0-9]/IMG_[0-9]+\.JPG)")
_MANIFEST_LINE_RE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")

Log = Callable[[str], None] | None


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


@dataclass(frozen=True)
class Split:
    """The images of each set, in stored (shuffled) order, and the signer keys held out for test."""

    train: tuple[ImageId, ...]
    test: tuple[ImageId, ...]
    test_signers: tuple[int, ...]


@dataclass(frozen=True)
class PrepareResult:
    """What `prepare` did: `built` is False when the folder was already up to date."""

    out: Path
    built: bool


# ---------------------------------------------------------------------------------------------
# The split


def parse_image_path(relpath: str) -> ImageId:
    """`Dataset/<digit>/IMG_<number>.JPG` -> ImageId; ValueError for any other path."""
    match = _IMAGE_PATH_RE.fullmatch(relpath)
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


# ---------------------------------------------------------------------------------------------
# The manifest


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path | str = MANIFEST_PATH) -> dict[str, str]:
    """The manifest as {`Dataset/<d>/IMG_<n>.JPG`: sha256 hex}; SignsDataError if malformed."""
    path = Path(path)
    fix = (
        "Fix: restore it from version control, or regenerate it from an intact dataset folder "
        "with `python -m course_utils.data.signs_dataset manifest`."
    )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SignsDataError(f"cannot read the image manifest {path}: {e}. {fix}") from e
    entries: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        match = _MANIFEST_LINE_RE.fullmatch(line)
        if match is None or _IMAGE_PATH_RE.fullmatch(match[2]) is None or match[2] in entries:
            raise SignsDataError(f"{path}, line {line_no}: not a valid manifest line. {fix}")
        entries[match[2]] = match[1]
    if not entries:
        raise SignsDataError(f"the image manifest {path} is empty. {fix}")
    return entries


def write_manifest(source: Path | str | None = None, out: Path | str = MANIFEST_PATH) -> int:
    """Write the `sha256sum`-format manifest of every source image to `out`; returns the count."""
    with open_source(source) as images_dir:
        lines = [
            f"{sha256_file(images_dir / str(i.digit) / f'IMG_{i.number}.JPG')}  {i.relpath}\n"
            for i in sorted(_list_images(images_dir), key=lambda i: (i.digit, i.number))
        ]
    if not lines:
        raise SignsDataError(f"no Dataset/<digit>/IMG_<n>.JPG files in {source}; nothing to list.")
    atomic_write(Path(out), lambda tmp: tmp.write_text("".join(lines), encoding="utf-8"))
    return len(lines)


def _list_images(images_dir: Path) -> list[ImageId]:
    found = []
    for digit in ALL_DIGITS:
        folder = images_dir / str(digit)
        if folder.is_dir():
            for path in folder.iterdir():
                match = _IMAGE_PATH_RE.fullmatch(f"Dataset/{digit}/{path.name}")
                if match is not None and path.is_file():
                    found.append(ImageId(int(match[2]), digit))
    return found


# ---------------------------------------------------------------------------------------------
# Sources: folders, zip archives, URLs


def default_source() -> Path | str:
    """`paths.default_source_dir()`, or `DEFAULT_SOURCE_URL` if that folder is absent and
    $SIGN_DIGITS_SOURCE is not set."""
    folder = default_source_dir()
    if folder.exists() or os.environ.get("SIGN_DIGITS_SOURCE"):
        return folder
    return DEFAULT_SOURCE_URL


def _source_fix() -> str:
    return (
        "Fix: pass --source (or set SIGN_DIGITS_SOURCE) to the dataset folder holding Dataset/, "
        f"a .zip of it, or a URL such as {DEFAULT_SOURCE_URL}; or point data_dir / SIGNS_DATA_DIR "
        "at a folder with the original SIGNS files."
    )


@contextmanager
def open_source(
    source: Path | str | None = None, *, log: Log = None, progress: bool = False
) -> Iterator[Path]:
    """Yield the folder holding the digit subfolders `0/` .. `9/` of the given source.

    Archives and URLs are downloaded and extracted into a temporary folder that is removed on exit.
    """
    text = str(default_source() if source is None else source)
    parsed = urlparse(text)
    scheme = parsed.scheme.lower() if len(parsed.scheme) > 1 else ""
    if scheme in ("http", "https"):
        with tempfile.TemporaryDirectory(prefix="signs-source-") as tmp:
            archive = download(text, Path(tmp) / "source.zip", log=log, progress=progress)
            yield safe_extract(archive, Path(tmp) / "extracted")
        return
    if scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
    elif scheme:
        raise SignsDataError(
            f"unsupported source URL {text!r} (http, https or file only). " + _source_fix()
        )
    else:
        path = Path(text).expanduser()
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="signs-source-") as tmp:
            yield safe_extract(path, Path(tmp))
        return
    yield _find_images_dir(path)


def _find_images_dir(path: Path) -> Path:
    if not path.exists():
        raise SignsDataError(
            f"the Sign Language Digits source {path} does not exist. " + _source_fix()
        )
    for candidate in (path / "Dataset", path):
        if candidate.is_dir() and any((candidate / str(d)).is_dir() for d in ALL_DIGITS):
            return candidate
    raise SignsDataError(f"{path} holds no Dataset/<digit>/ folders of images. " + _source_fix())


def download(url: str, dest: Path, *, log: Log = None, progress: bool = True) -> Path:
    """Download `url` to the new file `dest` with a progress bar; SignsDataError on failure."""
    if log:
        log(f"Downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                open(dest, "xb") as f,
                tqdm(
                    total=total, unit="B", unit_scale=True, desc="download", disable=not progress
                ) as bar,
            ):
                while chunk := response.read(1 << 16):
                    f.write(chunk)
                    bar.update(len(chunk))
                    if f.tell() > MAX_DOWNLOAD_BYTES:
                        raise ValueError(f"larger than {MAX_DOWNLOAD_BYTES} bytes")
    except (OSError, ValueError) as e:
        raise SignsDataError(
            f"could not download {url}: {e}. Fix: check the URL and the network, or download the "
            "archive yourself and pass the .zip (or its unpacked folder) to --source."
        ) from e
    return dest


def safe_extract(archive: Path, dest: Path) -> Path:
    """Extract the `*/Dataset/<digit>/IMG_<n>.JPG` members of a zip into `dest/Dataset/`.

    The whole archive is refused, before anything is written, if any entry is absolute, climbs
    with `..`, or is a symlink. Returns `dest/Dataset`.
    """
    fix = (
        f"Fix: download the archive again from a trusted place (e.g. {DEFAULT_SOURCE_URL}) or "
        "pass the unpacked dataset folder to --source."
    )
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise SignsDataError(f"{archive} is not a readable zip archive ({e}). {fix}") from e
    with zf:
        members = _select_members(zf.infolist(), archive, fix)
        images_dir = dest / "Dataset"
        for relpath, info in members.items():
            target = dest / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "xb") as dst:
                data = src.read(MAX_IMAGE_BYTES + 1)
                if len(data) > MAX_IMAGE_BYTES:
                    raise SignsDataError(f"{archive}: {info.filename!r} is too large. {fix}")
                dst.write(data)
    return images_dir


def _select_members(
    infos: Sequence[zipfile.ZipInfo], archive: Path, fix: str
) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        problem = _unsafe_entry(info)
        if problem:
            raise SignsDataError(
                f"{archive}: unsafe entry {info.filename!r} ({problem}); nothing was extracted. "
                + fix
            )
        match = _ARCHIVE_MEMBER_RE.fullmatch(info.filename)
        if match is None or info.is_dir():
            continue
        if match[1] in members:
            raise SignsDataError(f"{archive} holds {match[1]} twice; nothing was extracted. {fix}")
        if info.file_size > MAX_IMAGE_BYTES:
            raise SignsDataError(f"{archive}: {info.filename!r} is too large. {fix}")
        members[match[1]] = info
    if not members:
        raise SignsDataError(f"{archive} holds no */Dataset/<digit>/IMG_<n>.JPG images. {fix}")
    return members


def _unsafe_entry(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "absolute path"
    if ".." in name.split("/"):
        return "'..' path component"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return None


# ---------------------------------------------------------------------------------------------
# Images


def read_verified_images(
    images_dir: Path,
    manifest: Mapping[str, str],
    digits: Iterable[int] = CLASSES,
    *,
    progress: bool = False,
) -> dict[ImageId, bytes]:
    """Read every manifest image of `digits` from `images_dir` and check its SHA-256.

    Returns {ImageId: file bytes}. Raises one SignsDataError listing missing and altered files.
    """
    wanted = set(digits)
    entries = [(parse_image_path(p), sha) for p, sha in manifest.items()]
    entries = [(i, sha) for i, sha in sorted(entries) if i.digit in wanted]
    found: dict[ImageId, bytes] = {}
    missing: list[Path] = []
    altered: list[Path] = []
    for image, expected in tqdm(entries, desc="verify", unit="img", disable=not progress):
        path = images_dir / str(image.digit) / f"IMG_{image.number}.JPG"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            missing.append(path)
            continue
        except OSError as e:
            raise SignsDataError(f"cannot read source image {path}: {e}. " + _intact_fix()) from e
        if hashlib.sha256(data).hexdigest() != expected:
            altered.append(path)
            continue
        found[image] = data
    if missing or altered:
        raise SignsDataError(_integrity_message(images_dir, missing, altered))
    return found


def _integrity_message(images_dir: Path, missing: list[Path], altered: list[Path]) -> str:
    parts = []
    for paths, what in ((missing, "missing"), (altered, "differ from the manifest's SHA-256")):
        if paths:
            shown = ", ".join(str(p) for p in paths[:5]) + (", ..." if len(paths) > 5 else "")
            parts.append(f"{len(paths)} image(s) {what}: {shown}")
    return (
        f"the Sign Language Digits source {images_dir} does not match the manifest {MANIFEST_PATH}"
        f" ({'; '.join(parts)}). " + _intact_fix()
    )


def _intact_fix() -> str:
    return (
        "Fix: use an intact copy of the dataset (../shared/datasets/sign-language-digits, or "
        f"`python -m course_utils.data.signs_dataset prepare --source {DEFAULT_SOURCE_URL}`)."
    )


def decode_image(data: bytes, name: str | Path, size: int = IMAGE_SIZE) -> np.ndarray:
    """Decode image bytes to RGB and resize with LANCZOS: uint8 array of shape (size, size, 3)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            rgb = image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise SignsDataError(f"cannot decode the image {name}: {e}. " + _intact_fix()) from e
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
        decode_image(data[i], images_dir / str(i.digit) / f"IMG_{i.number}.JPG")
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
            return f.attrs.get("builder") == BUILDER
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
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
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
    arrays: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
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


# ---------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """The `python -m course_utils.data.signs_dataset` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "prepare":
            prepare(args.source, args.out, force=args.force, progress=not args.no_progress)
        else:
            source = args.source if args.source is not None else default_source_dir()
            count = write_manifest(source, args.out)
            print(f"Wrote {args.out} ({count} images)")
    except SignsDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.data.signs_dataset",
        description=(
            "Build the SIGNS data files (train_signs.h5, test_signs.h5) from the Sign Language "
            "Digits Dataset, or regenerate its image manifest."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="build the SIGNS files unless up to date")
    prep.add_argument(
        "--source",
        default=None,
        help=(
            "dataset folder, its Dataset/ folder, a .zip, or an http(s):// or file:// URL of a zip "
            f"(default: {default_source_dir()} if present, else {DEFAULT_SOURCE_URL})"
        ),
    )
    prep.add_argument("--out", default=None, help=f"output folder (default: {default_data_dir()})")
    prep.add_argument("--force", action="store_true", help="rebuild even if up to date")
    prep.add_argument("--no-progress", action="store_true", help="no progress bars")
    man = commands.add_parser("manifest", help="write the SHA-256 manifest of the source images")
    man.add_argument(
        "--source", default=None, help=f"dataset folder (default: {default_source_dir()})"
    )
    man.add_argument(
        "--out", default=str(MANIFEST_PATH), help=f"manifest file (default: {MANIFEST_PATH})"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
