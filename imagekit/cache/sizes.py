"""Sizes and ages as people write them (`500M`, `20G`, `30d`), and the cache's configured limit."""

from __future__ import annotations

import os
import re

from imagekit.errors import ImagekitError

MAX_SIZE_VARIABLE = "IMAGEKIT_CACHE_MAX_SIZE"
SIZE_FORM = "bytes with an optional unit K, M, G or T (powers of 1024), e.g. 500M or 20G"
AGE_FORM = "a number with a unit m, h, d or w (minutes, hours, days, weeks), e.g. 12h or 30d"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", re.IGNORECASE)
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_SHOWN_UNITS = ("B", "K", "M", "G", "T")


class CacheError(ImagekitError):
    """The cache cannot be read or pruned as asked (a limit that is no size, ...)."""


def parse_size(text: str) -> int:
    """Bytes from `500M`, `20G`, `1.5T`, `20GiB` or `1024`. Raises `ValueError` (one line,
    without the option's name: the caller adds it)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size; give {SIZE_FORM}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def parse_age(text: str) -> float:
    """Seconds from `90m`, `12h`, `30d` or `2w`. Raises `ValueError`."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an age; give {AGE_FORM}")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def format_size(size: int) -> str:
    """`size` bytes as `512B`, `3.4K`, `1.2G`."""
    value = float(size)
    for unit in _SHOWN_UNITS:
        if value < 1024 or unit == _SHOWN_UNITS[-1]:
            return f"{int(value)}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def configured_limit() -> int | None:
    """The cache's size limit from $IMAGEKIT_CACHE_MAX_SIZE, None when unset or empty.
    Raises `CacheError` naming the variable when it holds no size."""
    text = os.environ.get(MAX_SIZE_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return parse_size(text)
    except ValueError as e:
        raise CacheError(f"${MAX_SIZE_VARIABLE}: {e}") from e
