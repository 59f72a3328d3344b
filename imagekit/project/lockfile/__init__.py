"""Lockfiles: requirements.txt with hashes, pylock.toml, uv.lock and poetry.lock, read into one
`Lock` model.

`read_lock` picks the format from the file's name (or takes it from the caller), reads the
file once, and records the sha256 of its bytes.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import replace
from pathlib import Path

from imagekit.errors import Location
from imagekit.paths import read_regular
from imagekit.project.lockfile._common import decode_text
from imagekit.project.lockfile.interface import (
    Dependency,
    Lock,
    LockedFile,
    LockedPackage,
    LockError,
    LockFormat,
    LockReader,
    PinnedPackage,
    Sha256,
    SourceKind,
    canonical,
)
from imagekit.project.lockfile.requirements import looks_like_requirements
from imagekit.project.lockfile.select import (
    Requirement,
    Resolution,
    Unresolved,
    packages_for,
    resolve,
)

__all__ = [
    "Dependency",
    "Lock",
    "LockError",
    "LockFormat",
    "LockReader",
    "LockedFile",
    "LockedPackage",
    "PinnedPackage",
    "Requirement",
    "Resolution",
    "Sha256",
    "SourceKind",
    "Unresolved",
    "canonical",
    "detect_format",
    "packages_for",
    "read_lock",
    "reader_for",
    "resolve",
]

_UNKNOWN = (
    "unknown lockfile format "
    "(expected requirements.txt with hashes, pylock.toml, uv.lock or poetry.lock)"
)


def reader_for(format: LockFormat) -> LockReader:
    """The reader of one format: `READER` of the module named by its value (`uv` -> `uv.py`),
    imported on first use. A new format is that module plus its `LockFormat` member."""
    reader: LockReader = importlib.import_module(f"{__name__}.{format.value}").READER
    return reader


def detect_format(path: Path, text: str) -> LockFormat:
    """The format a file's name says; a `*.lock` of another name is sniffed for requirements.

    Raises `LockError` for a file of no known format.
    """
    for format in LockFormat:
        if reader_for(format).matches(path):
            return format
    if path.name.endswith(".lock") and looks_like_requirements(text):
        return LockFormat.REQUIREMENTS
    raise LockError(path, _UNKNOWN)


def read_lock(path: Path, format: LockFormat | None = None) -> Lock:
    """Read a lockfile into a `Lock`, detecting its format from its name unless given.

    Raises `LockError` for a missing, unreadable or non-UTF-8 file, an unknown format, or
    content that is not valid for the format.
    """
    if path.is_dir():
        raise LockError(path, "is a folder, not a lockfile", "name the lockfile itself")
    try:
        data = read_regular(path, Location(file=path), "lockfile", error=LockError)
    except FileNotFoundError as e:
        raise LockError(path, "lockfile not found", "create it or correct the path") from e
    text = decode_text(path, data)
    chosen = format if format is not None else detect_format(path, text)
    lock = reader_for(chosen).read(path, text)
    return replace(lock, sha256=Sha256(hashlib.sha256(data).hexdigest()))
