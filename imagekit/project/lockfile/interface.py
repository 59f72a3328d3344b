"""The Lock model every lockfile reader produces, and the reader protocol.

Readers parse syntax only: a file that cannot be read as its format raises `LockError`.
Everything a user can get wrong inside a well-formed file (an unpinned version, a missing
hash, an editable install) is kept in the model with its location so that
`imagekit.checks` can report every finding in one run. A `LockedPackage` is an entry as
written; a `PinnedPackage` is what an entry that passed the checks is (and what a base carries,
what the plan installs, what the wheelhouse fetches).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NewType, Protocol

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from imagekit.errors import InputError, Location

Sha256 = NewType("Sha256", str)
"""64 lowercase hex digits."""


class LockError(InputError):
    """A lockfile cannot be read as its format."""


class LockFormat(enum.StrEnum):
    REQUIREMENTS = "requirements"
    PYLOCK = "pylock"
    UV = "uv"
    POETRY = "poetry"


class SourceKind(enum.StrEnum):
    """Where a locked package comes from."""

    INDEX = "index"  # a package index (wheels and/or sdist by name and version)
    URL = "url"  # a direct URL to an archive
    VCS = "vcs"  # git, hg, ...
    DIRECTORY = "directory"  # a local directory (or an editable install)
    PATH = "path"  # a local archive file


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedFile:
    """One distribution file the lock names: a wheel or an sdist."""

    filename: str
    sha256: Sha256 | None
    url: str | None = None
    size: int | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "sha256": self.sha256,
            "url": self.url,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockedFile:
        return cls(
            filename=data["filename"],
            sha256=Sha256(data["sha256"]) if data.get("sha256") else None,
            url=data.get("url"),
            size=data.get("size"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    """An edge of the dependency graph, where the format records one."""

    name: NormalizedName
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    marker: Marker | None = None
    extras: tuple[str, ...] = ()  # the extras the edge asks of `name` (uv.lock `extra = [...]`)


@dataclass(frozen=True, slots=True, kw_only=True)
class PinnedPackage:
    """A package pinned to one version with the sha256 of each file it may be installed from.

    `filenames`: the wheel files the lock names for it, where it names them (the wheelhouse
    then fetches one of those); `sha256` keeps the order its source gives.
    """

    name: NormalizedName
    version: Version
    sha256: tuple[str, ...]
    filenames: tuple[str, ...] = ()

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": str(self.version),
            "sha256": list(self.sha256),
            "filenames": list(self.filenames),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PinnedPackage:
        return cls(
            name=canonicalize_name(d["name"]),
            version=Version(d["version"]),
            sha256=tuple(d["sha256"]),
            filenames=tuple(d["filenames"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedPackage:
    """One package entry of a lock, as written.

    `specifier` is the version constraint exactly as the lock states it ("==1.26.4",
    ">=1.26", "" when absent); `version` is set only when it pins one exact version.
    `hashes` holds every sha256 the lock lists for the package (requirements.txt puts them
    on the requirement; the TOML formats on each file).
    """

    name: NormalizedName
    raw_name: str
    location: Location
    version: Version | None
    specifier: str
    hashes: frozenset[Sha256] = frozenset()
    files: tuple[LockedFile, ...] = ()
    marker: Marker | None = None
    requires_python: SpecifierSet | None = None
    source: SourceKind = SourceKind.INDEX
    url: str | None = None  # the direct URL, VCS URL or path for non-index sources
    index: str | None = None  # the index URL the lock names for this package, if any
    editable: bool = False
    dependencies: tuple[Dependency, ...] | None = None  # None: the format records no graph
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # dependency groups (poetry.lock `groups`); (): not recorded

    @property
    def wheels(self) -> tuple[LockedFile, ...]:
        return tuple(f for f in self.files if f.is_wheel)

    def pinned(self) -> PinnedPackage:
        """This entry as the pinned package the checks make sure it is: its version, its
        hashes sorted, its wheel files. Raises `ValueError` for an entry with no one version."""
        if self.version is None:
            raise ValueError(f"{self.raw_name} is not pinned ({self.specifier or 'no version'})")
        return PinnedPackage(
            name=self.name,
            version=self.version,
            sha256=tuple(sorted(self.hashes)),
            filenames=tuple(sorted(f.filename for f in self.wheels)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": str(self.version) if self.version else None,
            "specifier": self.specifier,
            "hashes": sorted(self.hashes),
            "files": [f.to_dict() for f in self.files],
            "marker": str(self.marker) if self.marker else None,
            "requires_python": str(self.requires_python) if self.requires_python else None,
            "source": self.source.value,
            "url": self.url,
            "index": self.index,
            "editable": self.editable,
            "location": self.location.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A whole lockfile: its packages in file order, and what it says about Python."""

    path: Path
    format: LockFormat
    packages: tuple[LockedPackage, ...]
    requires_python: SpecifierSet | None = None
    index_urls: tuple[str, ...] = ()
    sha256: Sha256 = Sha256("")  # of the file's bytes
    # The project's own direct requirements, where the lock records them (uv.lock's root
    # package): where a graph walk starts. None: every package is to be installed (subject
    # to its marker), as in requirements.txt and pylock.toml.
    root_dependencies: tuple[Dependency, ...] | None = None

    def by_name(self) -> dict[NormalizedName, list[LockedPackage]]:
        out: dict[NormalizedName, list[LockedPackage]] = {}
        for pkg in self.packages:
            out.setdefault(pkg.name, []).append(pkg)
        return out


class LockReader(Protocol):
    """Reads one lockfile format into a `Lock`."""

    format: LockFormat

    def matches(self, path: Path) -> bool:
        """Whether a file of this name is of this reader's format."""
        ...

    def read(self, path: Path, text: str) -> Lock:
        """Parse the file's text; raises `LockError` for what is not this format."""
        ...


def canonical(name: str) -> NormalizedName:
    return canonicalize_name(name)
