"""What `imagekit diff` compares and what it finds.

Every input (an image's Inventory, a CycloneDX SBOM, a lockfile) is read into one `Snapshot`;
two snapshots compare into a `Diff`: a sorted tuple of `Change`s, each classed by the risk table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from imagekit.errors import InputError
from imagekit.vulns.targets import Target as ScanTarget


class DiffInputError(InputError):
    """One side of a diff cannot be read."""


class Ecosystem(enum.StrEnum):
    PYTHON = "python"
    DEB = "deb"


class InputKind(enum.StrEnum):
    IMAGE = "image"
    SBOM = "sbom"
    LOCK = "lock"


class RiskClass(enum.StrEnum):
    """From the most to the least worrying; the order is the report's order."""

    NUMERIC = "numeric-risk"  # may change the model's numbers
    BEHAVIOUR = "behaviour"  # may change what the code does (APIs, defaults, deployability)
    BENIGN = "benign"


class Subject(enum.StrEnum):
    """What changed."""

    PYTHON = "python"
    DEB = "deb"
    CUDA = "cuda"
    DRIVER = "driver"
    ARTIFACT = "artifact"
    LICENCE = "licence"
    VULNERABILITY = "vulnerability"


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    CHANGED = "changed"  # same name, different content (an artifact's sha256, a licence)
    INTRODUCED = "introduced"  # a vulnerability the new side has and the old did not
    FIXED = "fixed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """One installed (or locked) package of a snapshot."""

    ecosystem: Ecosystem
    name: str  # canonical (PEP 503) for Python; the dpkg name for Debian
    environment: str  # Python: the site-packages (image) or marker (lock); Debian: the arch
    version: str
    licences: tuple[str, ...] = ()  # SPDX expressions or names; () when the input has none
    where: str = ""  # where it was read: a lock's file:line, a dist-info path, a purl

    @property
    def key(self) -> tuple[Ecosystem, str, str]:
        return (self.ecosystem, self.name, self.environment)


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """A model file: its name and the sha256 of its bytes (None: missing from the image)."""

    name: str
    sha256: str | None
    path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """The comparable facts of one input."""

    reference: str  # what the user named
    kind: InputKind
    packages: tuple[Package, ...]
    cuda: str | None = None  # major.minor of the CUDA runtime
    min_driver: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    direct: frozenset[str] = frozenset()  # canonical names of the direct Python dependencies
    # What a vulnerability scan of this input looks at (`imagekit.vulns`).
    scan_target: ScanTarget | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One difference, classed: `rule` names the risk table entry (or built-in rule) applied."""

    subject: Subject
    name: str
    kind: ChangeKind
    old: str | None
    new: str | None
    risk: RiskClass
    reason: str
    rule: str
    environment: str = ""
    detail: str = ""  # a vulnerability's id, a licence change riding on an upgrade

    def sort_key(self) -> tuple[int, str, str, str, str]:
        order = list(RiskClass)
        return (order.index(self.risk), self.subject.value, self.name, self.environment, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject.value,
            "name": self.name,
            "environment": self.environment,
            "change": self.kind.value,
            "old": self.old,
            "new": self.new,
            "class": self.risk.value,
            "reason": self.reason,
            "rule": self.rule,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    old: str
    new: str
    changes: tuple[Change, ...]

    def of_class(self, risk: RiskClass) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.risk is risk)

    def counts(self) -> dict[RiskClass, int]:
        return {risk: len(self.of_class(risk)) for risk in RiskClass}

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "summary": {risk.value: n for risk, n in self.counts().items()},
            "changes": [c.to_dict() for c in self.changes],
        }
