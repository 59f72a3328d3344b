"""Where imagekit keeps what it can fetch or build again: `<user cache dir>/imagekit`
(`$XDG_CACHE_HOME/imagekit`, else `~/.cache/imagekit`), with wheels/, debs/, bases/, oci/ and
the metadata the checks read below it."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def cache_root() -> Path:
    """`<user cache dir>/imagekit`."""
    return Path(platformdirs.user_cache_dir("imagekit"))


def wheel_cache() -> Path:
    """The verified wheels and their METADATA, by sha256: `<cache root>/wheels`."""
    return cache_root() / "wheels"
