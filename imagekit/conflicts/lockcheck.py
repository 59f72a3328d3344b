"""Conflicts within one lock: does every locked package get what its own wheel requires?

A requirements.txt lock records no dependency graph, and a hand-edited or merged lock can pin
versions no resolver would have chosen together. This reads the Requires-Dist of each locked
wheel (from the index's metadata file or the wheel cache, see `imagekit.conflicts.index`),
evaluates their markers for the target (with the extras the lock and the requirements
themselves ask for), and checks each requirement against the locked versions; the base
image's own Python packages count as locked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from imagekit.conflicts.index import MetadataSource, Unread
from imagekit.conflicts.metadata import WheelMetadata
from imagekit.errors import ErrorCollector, Finding, Location, Severity
from imagekit.plan.catalog import BaseImage, Catalog
from imagekit.project.lockfile import Lock, LockedPackage, SourceKind, packages_for, read_lock
from imagekit.project.spec import load_spec
from imagekit.project.target import Target, TargetEnv

_UNREAD_SHOWN = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    """What provides a name: a locked package, or a package the base image carries."""

    name: NormalizedName
    raw_name: str
    version: Version | None
    where: str  # "requirements.lock:12", or "base debian-bookworm-py311"
    package: LockedPackage | None = None  # None: the base carries it


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """One requirement that applies to the target, and what the lock provides for it."""

    requirer: NormalizedName
    requirement: Requirement
    extra: str  # the extra that made it apply; "" when it applies without one
    provider: Provider | None

    @property
    def satisfied(self) -> bool:
        if self.provider is None:
            return False
        version = self.provider.version
        return version is None or self.requirement.specifier.contains(version, prereleases=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class LockConflicts:
    """The requirements read, and every conflict (errors) or package not read (warnings)."""

    lock: Path
    target: str
    read: int  # packages whose wheel metadata was read
    edges: tuple[Edge, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


def check_project_lock(
    project: Path, *, catalog: Catalog | None = None, cache_dir: Path | None = None
) -> LockConflicts:
    """Check the lock of a model folder for its base and platform.

    Raises `InputError` (spec, lock or base unreadable), `CatalogError` (unknown base),
    `WheelhouseError` (a wheel cannot be fetched or fails its hash) or `MetadataError`.
    """
    spec = load_spec(project)
    base = (catalog or Catalog.load()).get(spec.base, spec.location("base"))
    return check_lock_conflicts(
        read_lock(spec.lockfile), base=base, platform=spec.platform, cache_dir=cache_dir
    )


def check_lock_conflicts(
    lock: Lock, *, base: BaseImage, platform: str, cache_dir: Path | None = None
) -> LockConflicts:
    """Check every requirement of every locked wheel that `base` on `platform` installs."""
    env = TargetEnv(python=base.python.version, platform=platform).marker_environment()
    packages = installed(lock, env)
    collector = ErrorCollector()
    target = Target(python=base.python.version, platform=platform, glibc=base.os.glibc)
    for pkg in packages:
        if pkg.version is None or not pkg.hashes or pkg.source is not SourceKind.INDEX:
            collector.warn(
                pkg.location,
                "not-checked",
                f"{pkg.raw_name} is not pinned and hashed from an index: "
                "its requirements were not read",
                "fix what `imagekit check` reports, then run this again",
            )
    metadata = read_requirements(lock, packages, base, target, collector, cache_dir=cache_dir)
    return LockConflicts(
        lock=lock.path,
        target=str(target),
        read=len(metadata),
        edges=tuple(
            requirement_edges(
                metadata, _providers(packages, base), env, wanted_extras(lock, packages)
            )
        ),
        findings=collector.findings,
    )


def read_requirements(
    lock: Lock,
    packages: tuple[LockedPackage, ...],
    base: BaseImage,
    target: Target,
    collector: ErrorCollector,
    *,
    cache_dir: Path | None = None,
    source: MetadataSource | None = None,
) -> dict[NormalizedName, WheelMetadata]:
    """Read each package's METADATA and report every requirement the lock and the base leave
    unmet (errors, with the chain that leads to the requirer) and every package whose
    METADATA could not be read (one warning); returns the METADATA read."""
    read = (source or MetadataSource(cache_dir=cache_dir)).read(packages, target)
    for finding in read.findings:
        collector.add(finding)
    # An unpinned or unhashed package is already an error of `imagekit check`; not again here.
    unread = tuple(u for u in read.unread if u.package.version and u.package.hashes)
    if unread:
        _report_unread(lock, unread, collector)
    env = _env_of(target)
    providers = _providers(packages, base)
    edges = requirement_edges(read.metadata, providers, env, wanted_extras(lock, packages))
    _report(edges, _chains(edges, lock, providers), providers, str(target), collector)
    return read.metadata


def _env_of(target: Target) -> dict[str, str]:
    return TargetEnv(python=target.python, platform=target.platform).marker_environment()


def _report_unread(lock: Lock, unread: tuple[Unread, ...], collector: ErrorCollector) -> None:
    """A warning, not an error: the lock may well be right, but nothing vouches for it."""
    shown_names = ", ".join(f"{u.package.raw_name} ({u.reason})" for u in unread[:_UNREAD_SHOWN])
    more = f", and {len(unread) - _UNREAD_SHOWN} more" if len(unread) > _UNREAD_SHOWN else ""
    collector.warn(
        Location(file=lock.path),
        "requirements-not-checked",
        f"the requirements of {len(unread)} locked package(s) were not checked: "
        f"{shown_names}{more}",
        "run `imagekit check` once with the package index reachable (the metadata is then "
        "cached), or fix what keeps the package from being read",
    )


def installed(lock: Lock, env: Mapping[str, str]) -> tuple[LockedPackage, ...]:
    """The packages the target installs (Poetry's non-main groups left out), first of a name."""
    chosen: dict[NormalizedName, LockedPackage] = {}
    for pkg in packages_for(lock, env):
        if not (pkg.groups and "main" not in pkg.groups):
            chosen.setdefault(pkg.name, pkg)
    return tuple(chosen.values())


def _providers(
    packages: tuple[LockedPackage, ...], base: BaseImage
) -> dict[NormalizedName, Provider]:
    out = {
        p.name: Provider(name=p.name, raw_name=p.name, version=p.version, where=f"base {base.name}")
        for p in base.python_packages
    }
    for pkg in packages:
        where = f"{pkg.location.file.name}:{pkg.location.line}"
        out[pkg.name] = Provider(
            name=pkg.name, raw_name=pkg.raw_name, version=pkg.version, where=where, package=pkg
        )
    return out


def wanted_extras(
    lock: Lock, packages: tuple[LockedPackage, ...]
) -> dict[NormalizedName, set[str]]:
    """The extras the lock itself asks of each package: `name[extra]==` lines, and the extras
    of the dependency edges the format records (uv.lock)."""
    wanted: dict[NormalizedName, set[str]] = {}
    for pkg in packages:
        wanted.setdefault(pkg.name, set()).update(pkg.extras)
        for dep in pkg.dependencies or ():
            wanted.setdefault(dep.name, set()).update(dep.extras)
    for dep in lock.root_dependencies or ():
        wanted.setdefault(dep.name, set()).update(dep.extras)
    return wanted


def requirement_edges(
    metadata: Mapping[NormalizedName, WheelMetadata],
    providers: Mapping[NormalizedName, Provider],
    env: Mapping[str, str],
    wanted: Mapping[NormalizedName, set[str]],
) -> list[Edge]:
    """Every requirement that applies, growing the extras each asks of others until none is
    new (an extra can switch on requirements that ask for more extras)."""
    extras = {name: set(found) for name, found in wanted.items()}
    while True:
        edges = [
            edge
            for name in sorted(metadata)
            for edge in _edges_of(metadata[name], providers, env, extras.get(name, set()))
        ]
        grown = False
        for edge in edges:
            asked = extras.setdefault(canonicalize_name(edge.requirement.name), set())
            if not edge.requirement.extras <= asked:
                asked |= edge.requirement.extras
                grown = True
        if not grown:
            return edges


def _edges_of(
    meta: WheelMetadata,
    providers: Mapping[NormalizedName, Provider],
    env: Mapping[str, str],
    extras: set[str],
) -> Iterator[Edge]:
    for requirement in meta.requires:
        extra = _applies(requirement, env, extras)
        if extra is not None:
            provider = providers.get(canonicalize_name(requirement.name))
            yield Edge(requirer=meta.name, requirement=requirement, extra=extra, provider=provider)


def _applies(requirement: Requirement, env: Mapping[str, str], extras: set[str]) -> str | None:
    """The extra under which the requirement's marker holds ("" for none), or None."""
    if requirement.marker is None:
        return ""
    for extra in ("", *sorted(extras)):
        if requirement.marker.evaluate({**env, "extra": extra}):
            return extra
    return None


def _chains(
    edges: list[Edge], lock: Lock, providers: Mapping[NormalizedName, Provider]
) -> dict[NormalizedName, tuple[NormalizedName, ...]]:
    """For each package, the shortest path of requirements leading to it from a root: the
    lock's own direct requirements where it records them, else what nothing requires."""
    needs: dict[NormalizedName, list[NormalizedName]] = {}
    for edge in edges:
        if edge.provider is not None and edge.provider.package is not None:
            needs.setdefault(edge.requirer, []).append(edge.provider.name)
    required = {n for found in needs.values() for n in found}
    if lock.root_dependencies is not None:
        roots = [d.name for d in lock.root_dependencies if d.name in providers]
    else:
        roots = [n for n, p in providers.items() if p.package is not None and n not in required]
    chains: dict[NormalizedName, tuple[NormalizedName, ...]] = {root: (root,) for root in roots}
    queue = list(roots)
    while queue:
        current = queue.pop(0)
        for name in sorted(needs.get(current, ())):
            if name not in chains:
                chains[name] = (*chains[current], name)
                queue.append(name)
    return chains


def _report(
    edges: list[Edge],
    chains: Mapping[NormalizedName, tuple[NormalizedName, ...]],
    providers: Mapping[NormalizedName, Provider],
    target: str,
    collector: ErrorCollector,
) -> None:
    """One error per unsatisfied requirement, at the requirer's line in the lock."""
    for edge in edges:
        requirer = providers.get(edge.requirer)
        if edge.satisfied or requirer is None or requirer.package is None:
            continue
        path = chains.get(edge.requirer, (edge.requirer,))
        chain = " → ".join(_named(providers[n]) for n in path)
        chain += f" [{edge.extra}]" if edge.extra else ""
        collector.add(_finding(edge, requirer.package, chain, target))


def _finding(edge: Edge, requirer: LockedPackage, chain: str, target: str) -> Finding:
    """`scipy 1.14.1 requires numpy>=1.23.5; locked numpy 1.23.2 (requirements.lock:4)`."""
    name, wanted = edge.requirement.name, _requirement_text(edge.requirement)
    provider = edge.provider
    if provider is None:
        return Finding(
            location=requirer.location,
            rule="requirement-missing",
            message=f"{chain} requires {wanted}; the lock provides no {name} for {target}",
            fix=f"re-lock so that the lock includes {name}",
        )
    locked = provider.package is not None
    what = (
        f"locked {_named(provider)} ({provider.where})"
        if locked
        else (f"{provider.where} carries {_named(provider)}")
    )
    return Finding(
        location=requirer.location,
        rule="requirement-conflict",
        message=f"{chain} requires {wanted}; {what}",
        fix=f"re-lock so that {provider.raw_name} satisfies {edge.requirement.specifier}, or "
        f"lock a {requirer.raw_name} release that accepts {provider.raw_name} {provider.version}",
    )


def _named(provider: Provider) -> str:
    return f"{provider.raw_name} {provider.version if provider.version else '(unpinned)'}"


def _requirement_text(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"
