"""The committed manifest of the Sign Language Digits images, and reading images verified by it.

The manifest `course_utils/assets/sign_language_digits.sha256` lists the SHA-256 of all 2062
images in `sha256sum` format. Every image the course uses must match it, whatever the source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from tqdm import tqdm

from course_utils.atomic_files import atomic_write
from course_utils.data.errors import SignsDataError
from course_utils.data.paths import ASSETS_DIR
from course_utils.data.source import intact_copy_fix, list_images, open_source
from course_utils.data.split import CLASSES, IMAGE_PATH_RE, ImageId, parse_image_path

MANIFEST_PATH = ASSETS_DIR / "sign_language_digits.sha256"

_MANIFEST_LINE_RE = re.compile(r"([0-9a-f]{64}) [ *](\S.*)")


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
        "with `python -m course_utils.data manifest`."
    )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SignsDataError(f"cannot read the image manifest {path}: {e}. {fix}") from e
    entries: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        match = _MANIFEST_LINE_RE.fullmatch(line)
        if match is None or IMAGE_PATH_RE.fullmatch(match[2]) is None or match[2] in entries:
            raise SignsDataError(f"{path}, line {line_no}: not a valid manifest line. {fix}")
        entries[match[2]] = match[1]
    if not entries:
        raise SignsDataError(f"the image manifest {path} is empty. {fix}")
    return entries


def write_manifest(source: Path | str | None = None, out: Path | str = MANIFEST_PATH) -> int:
    """Write the `sha256sum`-format manifest of every source image to `out`; returns the count."""
    with open_source(source) as images_dir:
        lines = [
            f"{sha256_file(i.path_in(images_dir))}  {i.relpath}\n"
            for i in sorted(list_images(images_dir), key=lambda i: (i.digit, i.number))
        ]
    if not lines:
        raise SignsDataError(f"no Dataset/<digit>/IMG_<n>.JPG files in {source}; nothing to list.")
    atomic_write(Path(out), lambda tmp: tmp.write_text("".join(lines), encoding="utf-8"))
    return len(lines)


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
        path = image.path_in(images_dir)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            missing.append(path)
            continue
        except OSError as e:
            raise SignsDataError(
                f"cannot read source image {path}: {e}. " + intact_copy_fix()
            ) from e
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
        f" ({'; '.join(parts)}). " + intact_copy_fix()
    )
