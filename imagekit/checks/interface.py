"""The Check protocol, what a check reads (the Subject), and what the checks found.

A check reads the Subject and reports into an `ErrorCollector`; it never raises for a problem
of the model (that is a finding), only `InputError` for a file named by the spec that cannot be
read at all. Checks run in the order of `imagekit.checks.registry.CHECKS`; a check that learns
something later checks need (the packages that apply to the target, the wheels' METADATA)
returns the Subject with it filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from packaging.utils import NormalizedName

from imagekit.errors import ErrorCollector, Finding, Severity
from imagekit.project import Project
from imagekit.project.lockfile import LockedPackage
from imagekit.project.spec import ModelSpec

if TYPE_CHECKING:
    from imagekit.conflicts.index import MetadataSource
    from imagekit.conflicts.metadata import WheelMetadata
    from imagekit.gpu import CompatReport
    from imagekit.plan.catalog import Catalog
    from imagekit.plan.model import BuildPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """What the checks read: the spec, the project once its lock and base could be read, and
    what earlier checks learnt."""

    spec: ModelSpec
    project: Project | None  # None when the base or the lock cannot be read (findings say why)
    catalog: Catalog
    source: MetadataSource  # where the locked wheels' METADATA comes from
    allow_incompatible: str | None = None  # why to build for a fleet none of whose pools runs it
    packages: tuple[LockedPackage, ...] = ()  # the lock's packages for the target (lock check)
    metadata: Mapping[NormalizedName, WheelMetadata] = field(default_factory=dict)


class Check(Protocol):
    """One pre-build check: report its findings on `subject` into `collector`, and return the
    subject (with what it learnt, for the checks after it)."""

    def __call__(self, subject: Subject, collector: ErrorCollector, /) -> Subject: ...


class PlanCheck(Protocol):
    """A check of the planned image (the fleet's drivers): it needs the plan, which is made
    only once every `Check` passes. Returns the fleet's verdict, if it gave one."""

    def __call__(
        self, subject: Subject, plan: BuildPlan, collector: ErrorCollector, /
    ) -> CompatReport | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """What the checks read and learnt, every finding, and the plan once they all passed."""

    subject: Subject
    findings: tuple[Finding, ...]
    plan: BuildPlan | None = None  # planned once every other check passed
    compat: CompatReport | None = None  # the spec's fleet's verdict on the plan, if it names one

    @property
    def spec(self) -> ModelSpec:
        return self.subject.spec

    @property
    def project(self) -> Project | None:
        return self.subject.project

    @property
    def packages(self) -> tuple[LockedPackage, ...]:
        """The lock's packages that apply to the target."""
        return self.subject.packages

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)
