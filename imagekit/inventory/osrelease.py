"""os-release: which distribution and release the image is."""

from __future__ import annotations

import shlex

from imagekit.inventory.layers import Kept, View
from imagekit.inventory.model import OsRelease

PATHS = ("etc/os-release", "usr/lib/os-release")  # the first one found wins, as for systemd


MAX_OS_RELEASE = 64 << 10  # a dozen short lines


def wanted(path: str) -> bool | Kept:
    return Kept(limit=MAX_OS_RELEASE) if path in PATHS else False


def parse_os_release(text: str) -> OsRelease:
    """KEY=value lines, values shell-quoted; what is missing is empty."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or not key or key.startswith("#"):
            continue
        try:
            words = shlex.split(raw)
        except ValueError:  # an unbalanced quote: take the text as it is
            words = [raw.strip("\"'")]
        values[key] = " ".join(words)
    return OsRelease(
        id=values.get("ID", ""),
        version_id=values.get("VERSION_ID", ""),
        codename=values.get("VERSION_CODENAME", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
    )


def read_os_release(view: View) -> OsRelease | None:
    """The image's os-release (etc/, else usr/lib/), or None if it has neither."""
    for path in PATHS:
        data = view.read(path)
        if data is not None:
            return parse_os_release(data.decode("utf-8", "replace"))
    return None
