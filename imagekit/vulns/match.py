"""Does an OSV record affect an installed package? The schema's evaluation algorithm, exactly.

    IsVulnerable(pkg, v) = some affected entry for pkg has v in its `versions` list, or in one of
    its ranges; v is in a range if it is before one of the range's limits (or there are none),
    and walking the range's events *sorted by version*, the last event that applies to v is an
    introduced (introduced: v >= it; fixed: v >= it; last_affected: v > it).

ECOSYSTEM ranges use the package ecosystem's order (PEP 440, dpkg), SEMVER ranges SemVer 2.0;
GIT ranges need the repository and are left to the `versions` list, as the schema says. What
cannot be evaluated (an installed version or an event that is not valid in its order) is reported
as a `Problem` rather than guessed.

Local versions. PyPI refuses uploads with a local label, so advisories list public versions, while
every CUDA build of torch is installed as `2.5.1+cu124`. PEP 440 orders `2.5.1+cu124` after
`2.5.1` (so `last_affected: 2.5.1` and `versions: [2.5.1]` miss it) but says that a public version
in a specifier matches a candidate's local versions ("If the specified version identifier is a
public version identifier (no local version label), then the local version label of any candidate
versions MUST be ignored when matching versions", PEP 440, Version matching). A PyPI package whose
installed version has a local label that no record lists is therefore also evaluated at its public
version, and the match says so (`Match.public_version`). osv-scanner's offline matcher compares the
local label strictly (google/osv-scanner internal/semantic/version-pypi.go `compareLocal`, commit
2821e79e) and pip-audit sends the installed version to the OSV API unchanged (pypa/pip-audit
pip_audit/_service/osv.py, `"version": str(spec.version)`, commit ad327458), so neither reports
these; imagekit does, and names the version it matched on.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from imagekit.vulns.interface import PYPI, Package
from imagekit.vulns.osv import Affected, EventKind, OsvRecord, Range, RangeType
from imagekit.vulns.versions import (
    Ordering,
    Scheme,
    VersionError,
    ordering_for,
    public_version,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Something in a record that could not be evaluated for a package."""

    record: OsvRecord
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A record that affects a package: the versions that fix it (after the installed one) and
    the affected entries that matched (their severities may differ from the record's).
    `public_version` is set when only the public part of the installed version matched."""

    record: OsvRecord
    package: Package
    fixed: tuple[str, ...]
    affected: tuple[Affected, ...]
    public_version: str | None = None

    @property
    def matched_on(self) -> str | None:
        """ "matched on public version 2.5.1 of 2.5.1+cu124", or None for a direct match."""
        if self.public_version is None:
            return None
        return f"matched on public version {self.public_version} of {self.package.version}"


def package_key(ecosystem_base: str, name: str) -> str:
    """How a package name is compared in its ecosystem: PyPI names are canonicalised."""
    return canonicalize_name(name) if ecosystem_base == PYPI else name


def ecosystem_matches(record_ecosystem: str, package_ecosystem: str) -> bool:
    """ "Debian:12" matches "Debian:12"; a record's bare "Debian" matches every release."""
    if record_ecosystem == package_ecosystem:
        return True
    base, _, release = record_ecosystem.partition(":")
    return not release and base == package_ecosystem.partition(":")[0]


def concerns(affected: Affected, package: Package) -> bool:
    if affected.ecosystem is None or affected.name is None:
        return False
    base = package.ecosystem_base
    return ecosystem_matches(affected.ecosystem, package.ecosystem) and package_key(
        base, affected.name
    ) == package_key(base, package.name)


def _range_ordering(rng: Range, package: Package) -> Ordering | None:
    match rng.range_type:
        case RangeType.ECOSYSTEM:
            return ordering_for(package.ecosystem_base)
        case RangeType.SEMVER:
            return Ordering(Scheme.SEMVER)
        case RangeType.GIT | None:
            return None


def before_limits(rng: Range, version: str, order: Ordering) -> bool:
    limits = [e.version for e in rng.events if e.kind is EventKind.LIMIT]
    return not limits or any(order.compare(version, limit) < 0 for limit in limits)


_TIE_ORDER = {
    EventKind.INTRODUCED: 0,
    EventKind.LAST_AFFECTED: 1,
    EventKind.FIXED: 2,
    EventKind.LIMIT: 3,
}


def in_range(rng: Range, version: str, order: Ordering) -> bool:
    """The schema's IncludedInRanges for one range; raises `VersionError`."""
    if not before_limits(rng, version, order):
        return False
    key = order.sort_key()
    vulnerable = False
    for event in sorted(rng.events, key=lambda e: (key(e.version), _TIE_ORDER[e.kind])):
        cmp = order.compare(version, event.version)
        if event.kind is EventKind.INTRODUCED:
            vulnerable = vulnerable or cmp >= 0  # introduced: v >= it
        elif _closes(event.kind, cmp):
            vulnerable = False
    return vulnerable


def _closes(kind: EventKind, cmp: int) -> bool:
    """fixed: v >= it; last_affected: v > it (limits are applied before the walk)."""
    return (kind is EventKind.FIXED and cmp >= 0) or (kind is EventKind.LAST_AFFECTED and cmp > 0)


def in_versions(affected: Affected, version: str, order: Ordering | None) -> bool:
    """The schema's IncludedInVersions, comparing as the ecosystem does ("1.0" == "1.0.0" in
    PEP 440); a listed version the ecosystem cannot read is compared as a string."""
    if order is None:
        return version in affected.versions
    return any(order.equal(version, listed) for listed in affected.versions)


class _Evaluation:
    """One record against one package; collects problems instead of raising."""

    def __init__(self, record: OsvRecord, package: Package, version: str) -> None:
        self.record = record
        self.package = package
        self.version = version
        self.problems: list[Problem] = []
        self.fixed: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(Problem(record=self.record, message=message))

    def range_affects(self, index: int, rng: Range) -> bool:
        order = _range_ordering(rng, self.package)
        if order is None:
            return False
        version = self.version
        try:
            order.check(version)
        except VersionError as e:
            # The ecosystem's own order is checked once per package by the caller
            # (`check_installed`); only a SEMVER range over another scheme is news here.
            if rng.range_type is RangeType.SEMVER:
                self.problem(f"installed {self.package.name} {e}: its SEMVER range is skipped")
            return False
        try:
            for event in rng.events:
                order.check(event.version)
            hit = in_range(rng, version, order)
        except VersionError as e:
            self.problem(f"ranges[{index}] ({rng.type}) cannot be evaluated: {e}")
            return False
        if hit:
            self.fixed.extend(
                e.version
                for e in rng.events
                if e.kind is EventKind.FIXED and order.compare(e.version, version) > 0
            )
        return hit

    def affects(self, affected: Affected) -> bool:
        order = ordering_for(self.package.ecosystem_base)
        listed = in_versions(affected, self.version, order)
        ranged = [self.range_affects(i, r) for i, r in enumerate(affected.ranges)]
        return listed or any(ranged)


def check_installed(package: Package) -> str | None:
    """Why the installed version cannot be ordered in its ecosystem (then only exact `versions`
    entries can match it), or None."""
    order = ordering_for(package.ecosystem_base)
    if order is None:
        return f"{package.ecosystem} versions cannot be ordered by imagekit"
    try:
        order.check(package.version)
    except VersionError as e:
        return str(e)
    return None


def evaluate(record: OsvRecord, package: Package) -> tuple[Match | None, tuple[Problem, ...]]:
    """Whether `record` affects the installed `package` (None if not; withdrawn records never
    do), and what in the record could not be evaluated. A PyPI version with a local label the
    record does not match is tried again at its public version (see the module's docstring)."""
    if record.withdrawn:
        return None, ()
    match, problems = _evaluate(record, package, package.version)
    public = public_version(package.version) if package.ecosystem_base == PYPI else None
    if match is not None or public is None:
        return match, problems
    match, more = _evaluate(record, package, public)
    return match, problems + more


def _evaluate(
    record: OsvRecord, package: Package, version: str
) -> tuple[Match | None, tuple[Problem, ...]]:
    run = _Evaluation(record, package, version)
    hits = tuple(a for a in record.affected if concerns(a, package) and run.affects(a))
    if not hits:
        return None, tuple(run.problems)
    match = Match(
        record=record,
        package=package,
        fixed=sort_versions(run.fixed, package),
        affected=hits,
        public_version=None if version == package.version else version,
    )
    return match, tuple(run.problems)


def sort_versions(versions: list[str] | set[str], package: Package) -> tuple[str, ...]:
    """Distinct versions in the package ecosystem's order (as strings if one is unreadable)."""
    distinct = sorted(set(versions))
    order = ordering_for(package.ecosystem_base)
    if order is None:
        return tuple(distinct)
    try:
        return tuple(sorted(distinct, key=order.sort_key()))
    except VersionError:
        return tuple(distinct)
