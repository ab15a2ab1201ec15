"""Writing files so that a reader never sees them half-written: write a temporary file beside the
target, flush it to disk, then rename it onto the target (a rename is atomic)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def temp_path(final: Path) -> Path:
    """A fresh hidden name beside ``final`` for its temporary version."""
    final = Path(final)
    return final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``write(tmp)`` on a temporary file beside it, fsync, then rename.

    On any error the temporary file is removed and ``path`` is left as it was. The file gets the
    usual permissions (those of a newly created file), never a temporary file's private ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        write(tmp)
        fsync(tmp)
        os.replace(tmp, path)
        fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
