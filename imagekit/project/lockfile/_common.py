"""Helpers the lockfile readers share: TOML loading, locations, hashes, versions, markers.

Every helper that can fail raises `LockError` with the file, and the line or key path, of
what it was given.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, NormalizedName, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from imagekit.errors import InputError, Location
from imagekit.limits import check_toml_depth, check_version_text, shown
from imagekit.project.lockfile.interface import LockedFile, LockError, Sha256

_SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME_LINE = re.compile(r'\s*name\s*=\s*["\']')
_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$")


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """Parse a TOML lockfile's text; raises `LockError` with the line of a syntax error, or
    for TOML nested deeper than `MAX_TOML_DEPTH`."""
    with lock_errors():
        check_toml_depth(text, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # Python 3.14 gives `lineno` and `msg`; before, only "... (at line N, column M)".
        msg = str(getattr(e, "msg", e))
        line: int | None = getattr(e, "lineno", None)
        if (at := _TOML_AT.search(msg)) is not None:
            line, msg = line or int(at.group(1)), msg[: at.start()]
        raise LockError(
            Location(file=path, line=line),
            f"malformed TOML: {msg}",
            "fix the TOML syntax or regenerate the lock",
        ) from e
    except ValueError as e:  # an integer of more than 4,300 digits: int() refuses it
        raise LockError(
            path, f"unreadable TOML: {shown(e, 80)}", "this is not a real lock; regenerate it"
        ) from e


def entry_lines(text: str, key: str, count: int) -> list[int | None]:
    """The line of each `[[key]]` entry's `name = ...` (else of its header), in file order.

    Where the headers found are not `count` (entries written as inline arrays, say), no
    line is claimed: a wrong line is worse than none.
    """
    header = f"[[{key}]]"
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == header]
    if len(starts) != count:
        return [None] * count
    out: list[int | None] = []
    for start in starts:
        found = start + 1  # 1-based line of the header itself
        for j in range(start + 1, len(lines)):
            if lines[j].lstrip().startswith("["):
                break
            if _NAME_LINE.match(lines[j]):
                found = j + 1
                break
        out.append(found)
    return out


def key_line(text: str, key: str, table: str | None = None) -> int | None:
    """The line of `key = ...` at the top level, or in `[table]`, if there is one."""
    pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
    inside = table is None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            if table is None:
                return None
            inside = stripped == f"[{table}]"
        elif inside and pattern.match(line):
            return number
    return None


@contextmanager
def lock_errors(line: int | None = None) -> Iterator[None]:
    """Turn the `InputError`s raised inside into `LockError`s, giving those without one `line`.

    `imagekit.tomlfile.Table` names the key path of what is wrong; the reader knows the line of
    the entry it is reading.
    """
    try:
        yield
    except InputError as e:
        if isinstance(e, LockError) and (e.location.line is not None or line is None):
            raise
        where = Location(file=e.location.file, line=e.location.line or line, key=e.location.key)
        raise LockError(where, e.message, e.fix) from e


def sha256_digest(value: str, where: Location) -> Sha256:
    """Validate a hex sha256 digest; raises `LockError` unless it is 64 hex digits."""
    digest = value.lower()
    if not _SHA256.fullmatch(digest):
        raise LockError(
            where,
            f"malformed sha256 digest '{shown(value)}' (expected 64 hex digits)",
            "regenerate the lock's hashes",
        )
    return Sha256(digest)


def prefixed_sha256(value: str, where: Location) -> Sha256 | None:
    """Read an `algorithm:digest` hash; None for algorithms other than sha256.

    Raises `LockError` for a value without `algorithm:` or a malformed sha256 digest.
    """
    algorithm, sep, digest = value.partition(":")
    if not sep or not algorithm or not digest:
        raise LockError(
            where,
            f"malformed hash '{shown(value)}' (expected sha256:<64 hex digits>)",
            "regenerate the lock's hashes",
        )
    if algorithm.lower() != "sha256":
        return None  # imagekit verifies sha256 only; other digests do not count
    return sha256_digest(digest, where)


def filename_of(url_or_path: str) -> str:
    """The last component of a URL or path, percent-decoded for URLs."""
    if "://" in url_or_path:
        return unquote(urlsplit(url_or_path).path.rsplit("/", 1)[-1])
    return url_or_path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def version_of(text: str, where: Location) -> Version:
    """Parse a locked version; raises `LockError` for one that is not PEP 440 or too long."""
    with lock_errors():
        check_version_text(text, where)
    try:
        return Version(text)
    except InvalidVersion as e:
        raise LockError(where, f"invalid version '{shown(text)}'", "regenerate the lock") from e


def marker_of(text: str | None, where: Location) -> Marker | None:
    """Parse an environment marker; raises `LockError` for a malformed one."""
    if text is None:
        return None
    try:
        return Marker(text)
    except InvalidMarker as e:
        reason = shown(str(e).splitlines()[0] if str(e) else "")
        raise LockError(
            where, f"invalid marker '{shown(text)}': {reason}", "regenerate the lock"
        ) from e


def specifier_of(text: str | None, where: Location) -> SpecifierSet | None:
    """Parse a PEP 440 specifier set; raises `LockError` for a malformed one."""
    if text is None:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as e:
        raise LockError(where, f"invalid specifier '{shown(text)}'", "regenerate the lock") from e


def any_of(markers: Iterable[str], where: Location) -> Marker | None:
    """One marker true where any of `markers` is; None for none."""
    texts = list(markers)
    if not texts:
        return None
    return marker_of(" or ".join(f"({m})" for m in texts), where)


def check_wheel(
    file: LockedFile, name: NormalizedName, version: Version | None, where: Location
) -> None:
    """Raises `LockError` where a wheel's file name is invalid or names another package."""
    if not file.is_wheel:
        return
    try:
        wheel_name, wheel_version, _, _ = parse_wheel_filename(file.filename)
    except InvalidWheelFilename as e:
        raise LockError(
            where, f"invalid wheel file name '{shown(file.filename)}'", "regenerate the lock"
        ) from e
    if wheel_name != name or (version is not None and wheel_version != version):
        pinned = f"{name} {version}" if version is not None else name
        raise LockError(
            where,
            f"wheel '{shown(file.filename)}' is not a wheel of {pinned}",
            "regenerate the lock; a hand-edited or tampered lock names the wrong file",
        )


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """The distinct non-empty values, in first-seen order."""
    return tuple(dict.fromkeys(v for v in values if v))


def decode_text(path: Path, data: bytes) -> str:
    """Decode a lockfile's bytes as UTF-8 (a BOM is dropped).

    Raises `LockError` naming the line of the first byte that is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise LockError(
            Location(file=path, line=line),
            f"not UTF-8 text (byte 0x{data[e.start]:02x})",
            "save the file as UTF-8 or regenerate it",
        ) from e
