"""Durability of a file's name: after creating, renaming or removing a file, the directory that
holds it must be fsynced too, or a power failure can forget the change (POSIX leaves the
directory entry in the page cache until then)."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Flush `directory`'s entries (the names created, renamed or removed in it) to disk."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
