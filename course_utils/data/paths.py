"""Where the course finds its files: the project root, the data cache and the source images."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_ROOT = PACKAGE_DIR.parent

# Committed files that ship with the package (the image manifest, the weights and their card).
ASSETS_DIR = PACKAGE_DIR / "assets"

# Files the SIGNS data cache holds.
TRAIN_FILE = "train_signs.h5"
TEST_FILE = "test_signs.h5"


def default_data_dir() -> Path:
    """The SIGNS data folder: $SIGNS_DATA_DIR if set, else the project's git-ignored cache."""
    env = os.environ.get("SIGNS_DATA_DIR")
    if env:
        return Path(env).expanduser()
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "data" / "signs"
    return Path.home() / ".cache" / "course_utils" / "signs"


def default_source_dir() -> Path:
    """The Sign Language Digits folder: $SIGN_DIGITS_SOURCE, else ../shared beside the project."""
    env = os.environ.get("SIGN_DIGITS_SOURCE")
    if env:
        return Path(env).expanduser()
    return PROJECT_ROOT.parent / "shared" / "datasets" / "sign-language-digits"
