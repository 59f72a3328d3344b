"""Direct references in requirements files: URLs, VCS URLs and local paths.

What pip accepts instead of `name==version`: `name @ url`, a bare URL or path (named by
`#egg=`, by its wheel or sdist file name, or by the project's pyproject.toml), and what
`-e` names.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from imagekit.errors import Location
from imagekit.project.lockfile._common import filename_of, marker_of
from imagekit.project.lockfile.interface import LockedPackage, LockError, Sha256, SourceKind

_EXTRAS = re.compile(r"^(.+)\[([^\]]+)\]$")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_DIRECT = re.compile(r"(\.|/|~|[A-Za-z]:[\\/]|file:|[A-Za-z][A-Za-z0-9+.-]*://)")
_NAMED_URL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


def is_direct(text: str) -> bool:
    """Whether a requirement is a bare URL or path rather than `name[...] ...`."""
    if _DIRECT.match(text):
        return True
    if _NAMED_URL.match(text):
        return False  # `name @ url`: PEP 508 reads it
    head = text.split(";", 1)[0].strip()
    return "/" in head or head.endswith(_ARCHIVES)


def source_kind(url: str) -> SourceKind:
    """VCS for `git+...` and the like, URL for remote ones, else a local PATH or DIRECTORY."""
    if url.startswith(_VCS_PREFIXES):
        return SourceKind.VCS
    if "://" in url and not url.startswith("file:"):
        return SourceKind.URL
    return SourceKind.PATH if _local_path(url).endswith(_ARCHIVES) else SourceKind.DIRECTORY


def _local_path(location: str) -> str:
    """The filesystem path of a `file:` URL or a path, without fragment."""
    if location.startswith("file:"):
        return unquote(urlsplit(location).path)
    return location.split("#", 1)[0]


def direct_package(
    text: str, where: Location, hashes: frozenset[Sha256], *, editable: bool
) -> LockedPackage:
    """A bare URL or path requirement (also what `-e` names).

    Raises `LockError` where no package name can be told or the marker is malformed.
    """
    separator = "; " if "://" in text or text.startswith("file:") else ";"
    location, _, marker_text = text.partition(separator)
    location = location.strip()
    extras: tuple[str, ...] = ()
    if match := _EXTRAS.match(location):
        location = match.group(1)
        extras = tuple(sorted(e.strip() for e in match.group(2).split(",")))
    raw_name = _direct_name(location, where)
    name = canonicalize_name(raw_name)
    return LockedPackage(
        name=name,
        raw_name=raw_name,
        location=where,
        version=file_version(location, name),
        specifier="",
        hashes=hashes,
        marker=marker_of(marker_text.strip() or None, where),
        source=source_kind(location),
        url=location,
        editable=editable,
        extras=extras,
    )


def _direct_name(location: str, where: Location) -> str:
    """The package name of a URL or path: `#egg=`, the file name, or the project's metadata.

    Raises `LockError` where none of them gives a name.
    """
    fragment = urlsplit(location).fragment
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "egg" and (match := _NAME.match(value)):
            return match.group(0)
    filename = filename_of(location.split("#", 1)[0].split("?", 1)[0])
    for parse in (parse_wheel_filename, parse_sdist_filename):
        try:
            return str(parse(filename)[0])
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    if source_kind(location) in (SourceKind.DIRECTORY, SourceKind.PATH):
        directory = where.file.parent / _local_path(location)
        name = _project_name(directory) or directory.resolve().name
        if _NAME.fullmatch(name):
            return name
    raise LockError(
        where,
        f"cannot tell the package name of {location!r}",
        "append #egg=<name> or write `name @ url`",
    )


def _project_name(directory: Path) -> str | None:
    """`[project].name` of a local project, where its pyproject.toml has one."""
    try:
        data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # no readable metadata: the caller falls back to the folder's name
    name = data.get("project", {}).get("name")
    return name if isinstance(name, str) else None


def file_version(location: str, name: str) -> Version | None:
    """The version a wheel or sdist file name in a URL or path states, if it is `name`'s."""
    filename = filename_of(location.split("#", 1)[0].split("?", 1)[0])
    try:
        if filename.endswith(".whl"):
            wheel_name, version, _, _ = parse_wheel_filename(filename)
            return version if wheel_name == name else None
        sdist_name, version = parse_sdist_filename(filename)
        return version if sdist_name == name else None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
