"""Where the Sign Language Digits images come from: a folder, a zip archive or a URL of one.

A source is the dataset folder (holding `Dataset/`), the `Dataset/` folder itself, a `.zip` of
either, or an `http://`, `https://` or `file://` URL of such a zip (GitHub's archive of the pinned
commit is `DEFAULT_SOURCE_URL`). `open_source` turns any of them into a folder of digit
subfolders `0/` .. `9/`. Archives are extracted into a temporary folder, refusing absolute, `..`
and symlink entries; only `*/Dataset/<digit>/IMG_<n>.JPG` members are extracted. Archive bytes are
not stable, so the images' integrity is checked against the manifest (`manifest.py`), not here.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from tqdm import tqdm

from course_utils.data.errors import SignsDataError
from course_utils.data.paths import default_source_dir
from course_utils.data.split import ALL_DIGITS, ImageId, parse_image_path

DEFAULT_SOURCE_URL = (
    "https://github.com/ardamavi/Sign-Language-Digits-Dataset/archive/"
    "4b09433ef9d5c60602e8805bb54b8aa2428527f8.zip"
)
DATASET_CREDIT = (
    "Sign Language Digits Dataset, Turkey Ankara Ayranci Anadolu High School, "
    "github.com/ardamavi/Sign-Language-Digits-Dataset@4b09433ef9d5, Apache-2.0; "
    "cite Mavi 2020, arXiv:2011.08927"
)

DOWNLOAD_TIMEOUT_S = 60.0
MAX_DOWNLOAD_BYTES = 1 << 30
MAX_IMAGE_BYTES = 1 << 22

_ARCHIVE_MEMBER_RE = re.compile(r"(?:.+/)?(Dataset/[0-9]/IMG_[0-9]+\.JPG)")

# Where progress messages go: a function taking one line, or None for silence.
Log = Callable[[str], None] | None


def default_source() -> Path | str:
    """`paths.default_source_dir()`, or `DEFAULT_SOURCE_URL` if that folder is absent and
    $SIGN_DIGITS_SOURCE is not set."""
    folder = default_source_dir()
    if folder.exists() or os.environ.get("SIGN_DIGITS_SOURCE"):
        return folder
    return DEFAULT_SOURCE_URL


def source_fix() -> str:
    """The fix for a source that is missing or is not the dataset, as one sentence."""
    return (
        "Fix: pass --source (or set SIGN_DIGITS_SOURCE) to the dataset folder holding Dataset/, "
        f"a .zip of it, or a URL such as {DEFAULT_SOURCE_URL}; or point data_dir / SIGNS_DATA_DIR "
        "at a folder with the original SIGNS files."
    )


def intact_copy_fix() -> str:
    """The fix for source images that are missing, altered or unreadable, as one sentence."""
    return (
        "Fix: use an intact copy of the dataset (../shared/datasets/sign-language-digits, or "
        f"`python -m course_utils.data prepare --source {DEFAULT_SOURCE_URL}`)."
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
            f"unsupported source URL {text!r} (http, https or file only). " + source_fix()
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
            f"the Sign Language Digits source {path} does not exist. " + source_fix()
        )
    for candidate in (path / "Dataset", path):
        if candidate.is_dir() and any((candidate / str(d)).is_dir() for d in ALL_DIGITS):
            return candidate
    raise SignsDataError(f"{path} holds no Dataset/<digit>/ folders of images. " + source_fix())


def list_images(images_dir: Path) -> list[ImageId]:
    """Every `<digit>/IMG_<n>.JPG` file in a folder of digit subfolders, in no particular order."""
    found = []
    for digit in ALL_DIGITS:
        folder = images_dir / str(digit)
        if folder.is_dir():
            for path in folder.iterdir():
                try:
                    image = parse_image_path(f"Dataset/{digit}/{path.name}")
                except ValueError:
                    continue
                if path.is_file():
                    found.append(image)
    return found


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
