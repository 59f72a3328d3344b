"""What a vulnerability source is asked and what it answers, behind one interface.

A source is asked about `Package`s (what advisories are recorded against: a PyPI distribution,
a Debian *source* package) and answers with the OSV records that may concern them, plus
warnings about what it could not read. Deciding whether a record affects an installed version is
the matcher's job (`imagekit.vulns.match`), the same for every source.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from imagekit.errors import Finding, FindingsError, ImagekitError
from imagekit.vulns.osv import OsvRecord

PYPI = "PyPI"
DEBIAN = "Debian"


class SourceKind(enum.StrEnum):
    """Where OSV records come from."""

    EXPORT = "export"  # an OSV export on disk: a directory of *.json, or osv.dev's all.zip
    API = "api"  # the OSV API (POST /v1/querybatch, GET /v1/vulns/{id})


class VulnError(ImagekitError):
    """A scan cannot be done as asked (no data source, an unreadable target)."""


class VulnSourceError(VulnError):
    """A vulnerability source cannot be read as a whole: nothing it says can be trusted, so the
    scan stops instead of reporting fewer vulnerabilities than there are."""


class IgnoreFileError(FindingsError):
    """The ignore file has problems; every one is listed. Bad input: exit code 2."""

    exit_code = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One installed thing as the image or the SBOM names it (a binary .deb, a wheel)."""

    name: str
    version: str
    purl: str | None = None
    bom_ref: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "purl": self.purl}


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """What advisories are recorded against: `ecosystem` as OSV spells it ("PyPI", "Debian:12"),
    the name advisories use (canonical PyPI name; Debian *source* package) and its version.
    `components` are the installed things that come from it (libssl3 and openssl from openssl).
    """

    ecosystem: str
    name: str
    version: str
    components: tuple[Component, ...]

    @property
    def ecosystem_base(self) -> str:
        return self.ecosystem.partition(":")[0]

    @property
    def display_name(self) -> str:
        """The installed names, and the advisories' name where it differs ("libssl3 (openssl)")."""
        names = sorted({c.name for c in self.components}) or [self.name]
        shown = ", ".join(names)
        spelled = {canonicalize_name(n) if self.ecosystem == PYPI else n for n in names}
        return shown if spelled == {self.name} else f"{shown} ({self.name})"

    def to_dict(self) -> dict[str, object]:
        return {
            "ecosystem": self.ecosystem,
            "name": self.name,
            "version": self.version,
            "components": [c.to_dict() for c in self.components],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceResult:
    """The records a source found for some packages, and what it could not read."""

    records: tuple[OsvRecord, ...]
    warnings: tuple[Finding, ...] = ()


class VulnSource(abc.ABC):
    """One source of OSV records."""

    kind: SourceKind

    @abc.abstractmethod
    def describe(self) -> str:
        """One line naming the source (a path, a URL), for reports."""

    @abc.abstractmethod
    def fetch(self, packages: Sequence[Package]) -> SourceResult:
        """The records that may concern `packages`. Raises `VulnSourceError` when the source as a
        whole cannot be read; a single bad record is a warning in the result instead."""
