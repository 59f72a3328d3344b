"""Debian version order, by dpkg's algorithm (`dpkg --compare-versions`), for everything that
compares the versions of .deb packages: the system-package fetcher, vulnerability matching and
image diffs."""

from __future__ import annotations

import re
from itertools import zip_longest

from imagekit.errors import ImagekitError

_RUN = re.compile(r"([^0-9]*)([0-9]*)")


class DebianVersionError(ImagekitError):
    """A Debian version that cannot be compared (an epoch that is not a number)."""


def compare_debian_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as Debian version `a` sorts before, equal to or after `b`, by dpkg's
    algorithm. Raises `DebianVersionError` on an epoch that is not a number."""
    epoch_a, upstream_a, revision_a = _split_version(a)
    epoch_b, upstream_b, revision_b = _split_version(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _compare_part(upstream_a, upstream_b) or _compare_part(revision_a, revision_b)


def _split_version(version: str) -> tuple[int, str, str]:
    epoch, colon, rest = version.strip().partition(":")
    epoch, rest = (epoch, rest) if colon else ("0", version.strip())
    if not epoch.isdigit():
        raise DebianVersionError(
            f"Debian version {version!r} has a bad epoch (it must be a number)"
        )
    upstream, dash, revision = rest.rpartition("-")
    return (int(epoch), upstream, revision) if dash else (int(epoch), rest, "")


def _compare_part(a: str, b: str) -> int:
    """dpkg's verrevcmp: alternate runs of non-digits (compared by `_order`) and numbers."""
    runs_a = [(m[1], int(m[2] or 0)) for m in _RUN.finditer(a) if m[0]]
    runs_b = [(m[1], int(m[2] or 0)) for m in _RUN.finditer(b) if m[0]]
    for (text_a, number_a), (text_b, number_b) in zip_longest(runs_a, runs_b, fillvalue=("", 0)):
        orders = zip_longest(map(_order, text_a), map(_order, text_b), fillvalue=0)
        for x, y in [*orders, (number_a, number_b)]:
            if x != y:
                return -1 if x < y else 1
    return 0


def _order(char: str) -> int:
    # `~` sorts before the end of a run (0), letters before all other characters.
    if char == "~":
        return -1
    return ord(char) if char.isascii() and char.isalpha() else ord(char) + 256
