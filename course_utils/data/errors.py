"""The one exception the course's data layer raises, and the fixes its messages suggest."""

from __future__ import annotations

from pathlib import Path


class SignsDataError(ValueError):
    """SIGNS data or its Sign Language Digits source is missing, damaged or unusable.

    The message names the file or folder at fault and says how to fix it.
    """


def rebuild_fix(folder: Path | str | None = None) -> str:
    """The fix for a damaged or missing SIGNS data folder, as one sentence."""
    out = f" --out {folder}" if folder is not None else ""
    return (
        "Fix: rebuild the course data with `make data` (or "
        f"`python -m course_utils.data prepare --force{out}`), or point data_dir / "
        "SIGNS_DATA_DIR at a folder with the original SIGNS files (train_signs.h5, test_signs.h5)."
    )
