"""Version orderings the OSV evaluation needs: PEP 440 (PyPI), dpkg (Debian), SemVer 2.0.

An `Ordering` compares two version strings and raises `VersionError` for one it cannot read, so
the caller can report "not a PEP 440 version" instead of guessing. OSV's special values are
handled here once: `introduced: "0"` sorts before every version, `limit: "*"` after every one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any, assert_never

from packaging.version import InvalidVersion, Version

from imagekit.inventory.debversion import DebianVersionError, compare_debian_versions
from imagekit.limits import MAX_VERSION_LENGTH, shown

ZERO = "0"  # OSV: "introduced": "0" is before any version
INFINITY = "*"  # OSV: "limit": "*" is after any version

_SEMVER = re.compile(
    r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class VersionError(ValueError):
    """A version string is not valid in the ordering asked for."""


class Scheme(enum.StrEnum):
    PEP440 = "PEP 440"
    DPKG = "dpkg"
    SEMVER = "SemVer"


def _cmp(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def _pep440(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion as e:
        raise VersionError(f"{version!r} is not a PEP 440 version") from e


def compare_pep440(a: str, b: str) -> int:
    return _cmp(_pep440(a), _pep440(b))


def compare_dpkg(a: str, b: str) -> int:
    if not a.strip() or not b.strip():
        raise VersionError("an empty string is not a Debian version")
    try:
        return compare_debian_versions(a, b)
    except DebianVersionError as e:
        raise VersionError(str(e)) from e


def _semver_key(version: str) -> tuple[int, int, int, tuple[tuple[int, int | str], ...] | None]:
    match = _SEMVER.match(version)
    if not match:
        raise VersionError(f"{version!r} is not a SemVer 2.0 version")
    pre = match["pre"]
    idents = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else None
    return int(match["major"]), int(match["minor"]), int(match["patch"]), idents


def compare_semver(a: str, b: str) -> int:
    """SemVer 2.0 precedence (section 11): build metadata is ignored, a pre-release sorts before
    its release, pre-release identifiers compare numerically, then by ASCII, then by count."""
    *core_a, pre_a = _semver_key(a)
    *core_b, pre_b = _semver_key(b)
    if core_a != core_b:
        return _cmp(core_a, core_b)
    if pre_a is None or pre_b is None:
        return _cmp(pre_a is None, pre_b is None)
    return _cmp(pre_a, pre_b)


def comparator(scheme: Scheme) -> Callable[[str, str], int]:
    match scheme:
        case Scheme.PEP440:
            return compare_pep440
        case Scheme.DPKG:
            return compare_dpkg
        case Scheme.SEMVER:
            return compare_semver
        case _:
            assert_never(scheme)


@dataclass(frozen=True, slots=True)
class Ordering:
    """A total order over one scheme's versions, with OSV's "0" and "*" at the ends."""

    scheme: Scheme

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1; raises `VersionError` for a version the scheme cannot read."""
        ends = {ZERO: -1, INFINITY: 1}
        if a in ends or b in ends:
            return _cmp(ends.get(a, 0), ends.get(b, 0)) if a != b else 0
        for version in (a, b):
            _check_length(version)
        return comparator(self.scheme)(a, b)

    def check(self, version: str) -> None:
        """Raise `VersionError` unless `version` is readable (or OSV's "0"/"*")."""
        self.compare(version, version)

    def equal(self, a: str, b: str) -> bool:
        """Equal in the scheme ("3.1.0.rc1" == "3.1.0rc1"); strings when one is unreadable."""
        try:
            return self.compare(a, b) == 0
        except VersionError:
            return a == b

    def sort_key(self) -> Callable[[str], Any]:
        return cmp_to_key(self.compare)


def _check_length(version: str) -> None:
    """Every scheme turns digit runs into ints, which CPython refuses past 4,300 digits."""
    if len(version) > MAX_VERSION_LENGTH:
        raise VersionError(
            f"{shown(version, 40)} is not a version: {len(version)} characters, longer than "
            f"{MAX_VERSION_LENGTH}"
        )


def public_version(version: str) -> str | None:
    """The public part of a PEP 440 version with a local label ("2.5.1" of "2.5.1+cu124"), or
    None when it has none or is not PEP 440."""
    if len(version) > MAX_VERSION_LENGTH:
        return None
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return parsed.public if parsed.local is not None else None


def ordering_for(ecosystem_base: str) -> Ordering | None:
    """The ECOSYSTEM ordering of an OSV ecosystem ("PyPI", "Debian"), or None if unknown."""
    return {"PyPI": Ordering(Scheme.PEP440), "Debian": Ordering(Scheme.DPKG)}.get(ecosystem_base)
