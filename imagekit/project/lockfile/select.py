"""Which of a lock's packages one environment installs: one version of each name.

In requirements.txt, pylock.toml and poetry.lock each package says by its own marker
whether it applies. uv.lock is a graph: a package applies when a path of dependency edges
whose markers hold leads to it from the project (`Lock.root_dependencies`), and among the
versions uv forked, the one whose resolution markers hold is chosen.

A lock may still offer two versions of a name for one environment: Poetry writes each
version's marker as the union of the paths that reach it, so on Linux x86_64 the torch
2.13.0 lock offers nvidia-cublas 13.1.1.3 (through `cuda-toolkit[cublas]`, which pins it)
and 13.10.0.20 (through packages that accept any version). Poetry's installer with
`installer.re-resolve = true`, like uv's, solves again over the locked versions only and
installs the one every requirement accepts; `resolve` does the same: among the offered
versions it chooses, newest first as Poetry's solver prefers, the combination that satisfies
every dependency edge that applies, and reports a name as unresolved only when no
combination does.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging.markers import Marker
from packaging.utils import NormalizedName
from packaging.version import Version

from imagekit.project.lockfile.interface import Dependency, Lock, LockedPackage

# The most combinations of offered versions tried before a lock is reported unresolved: a
# real lock offers two versions of a handful of names; this bounds a hostile one.
MAX_COMBINATIONS = 4096
# The dependency groups installed unless others are asked for: Poetry's `main`.
MAIN = frozenset({"main"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One dependency edge that applies to the environment: `by` asks for `dependency`."""

    by: LockedPackage
    dependency: Dependency

    def __str__(self) -> str:
        wanted = str(self.dependency.specifier) or "(any)"
        return f"{self.by.raw_name} {self.by.version} requires {self.dependency.name}{wanted}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Unresolved:
    """A name the lock offers in several versions, none of which every requirement accepts."""

    name: NormalizedName
    offered: tuple[LockedPackage, ...]
    requirements: tuple[Requirement, ...]

    def __str__(self) -> str:
        versions = ", ".join(str(p.version) for p in self.offered)
        why = "; ".join(str(r) for r in self.requirements) or "no requirement chooses one"
        return f"{self.name}: the lock offers {versions}, and no one version satisfies: {why}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """What one environment installs from a lock.

    `packages` holds one entry per name, in lock order, except for the names in `unresolved`,
    whose offered versions are all kept so that the checks report the conflict.
    """

    packages: tuple[LockedPackage, ...]
    unresolved: tuple[Unresolved, ...] = ()


def packages_for(
    lock: Lock, environment: Mapping[str, str], groups: Collection[str] = MAIN
) -> tuple[LockedPackage, ...]:
    """The packages `environment` (PEP 508 marker variables) installs, in lock order.

    A dependency the lock has no entry for is skipped here; `imagekit.checks.lock` reports it.
    """
    return resolve(lock, environment, groups).packages


def resolve(
    lock: Lock, environment: Mapping[str, str], groups: Collection[str] = MAIN
) -> Resolution:
    """One version of each package of `lock` for `environment`, as the lock's installer chooses.

    Of a lock that records dependency groups (poetry.lock), only the packages of `groups`
    are offered.
    """
    offered = tuple(p for p in _offered(lock, environment) if _in_groups(p, groups))
    by_name: dict[NormalizedName, list[LockedPackage]] = {}
    for package in offered:
        by_name.setdefault(package.name, []).append(package)
    several = {name: versions for name, versions in by_name.items() if len(versions) > 1}
    if not several:
        return Resolution(packages=offered)
    edges = tuple(r for r in _applied(offered, environment) if r.dependency.name in several)
    # Without the graph (requirements.txt, pylock.toml) nothing says which version is meant.
    has_graph = all(p.dependencies is not None for p in offered)
    left_out: set[int] = set()
    unresolved: list[Unresolved] = []
    for group in _independent(several, edges) if has_graph else [several]:
        chosen = _choose(group, edges) if has_graph else None
        if chosen is not None:
            left_out |= {id(p) for versions in group.values() for p in versions} - chosen
            continue
        unresolved += [
            Unresolved(
                name=name,
                offered=tuple(versions),
                requirements=tuple(r for r in edges if r.dependency.name == name),
            )
            for name, versions in group.items()
        ]
    return Resolution(
        packages=tuple(p for p in offered if id(p) not in left_out),
        unresolved=tuple(unresolved),
    )


def _independent(
    several: Mapping[NormalizedName, Sequence[LockedPackage]], edges: Sequence[Requirement]
) -> list[dict[NormalizedName, Sequence[LockedPackage]]]:
    """The names offered several times, in groups whose choices do not bear on each other.

    Two names are in one group when a version of one asks for the other; each group is
    chosen on its own, so a conflict in one leaves the others resolved.
    """
    parent = {name: name for name in several}

    def root(name: NormalizedName) -> NormalizedName:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for r in edges:
        if r.by.name in parent:
            parent[root(r.by.name)] = root(r.dependency.name)
    groups: dict[NormalizedName, dict[NormalizedName, Sequence[LockedPackage]]] = {}
    for name, versions in several.items():
        groups.setdefault(root(name), {})[name] = versions
    return list(groups.values())


def _in_groups(package: LockedPackage, groups: Collection[str]) -> bool:
    return not package.groups or any(g in groups for g in package.groups)


def _offered(lock: Lock, environment: Mapping[str, str]) -> tuple[LockedPackage, ...]:
    """Every package the markers (and, in uv.lock, the graph from the project) let apply."""
    if lock.root_dependencies is None:
        return tuple(p for p in lock.packages if _holds(p.marker, environment, ""))
    by_name = lock.by_name()
    chosen: set[int] = set()
    seen: set[tuple[int, str]] = set()
    pending = [(dep, "") for dep in lock.root_dependencies]
    while pending:
        dep, extra = pending.pop()
        if not _holds(dep.marker, environment, extra):
            continue
        package = _candidate(dep, by_name.get(dep.name, ()), environment)
        if package is None:
            continue
        chosen.add(id(package))
        for wanted in ("", *dep.extras):
            if (id(package), wanted) not in seen:
                seen.add((id(package), wanted))
                pending += [(d, wanted) for d in package.dependencies or ()]
    return tuple(p for p in lock.packages if id(p) in chosen)


def _choose(
    group: Mapping[NormalizedName, Sequence[LockedPackage]], edges: Sequence[Requirement]
) -> set[int] | None:
    """The ids of the newest-first combination of the group's versions every edge accepts.

    An edge into the group counts when the package asking is installed: always for a name
    offered once, only when it is the version chosen for a name of the group.
    """
    ours = [r for r in edges if r.dependency.name in group]
    newest_first = [sorted(v, key=_version_key, reverse=True) for v in group.values()]
    offered_ids = {id(p) for versions in group.values() for p in versions}
    for combination in itertools.islice(itertools.product(*newest_first), MAX_COMBINATIONS):
        chosen = {id(p) for p in combination}
        version = {p.name: p.version for p in combination}
        if all(
            _accepts(r.dependency, version[r.dependency.name])
            for r in ours
            if id(r.by) in chosen or id(r.by) not in offered_ids
        ):
            return chosen
    return None


def _accepts(dep: Dependency, version: Version | None) -> bool:
    return version is None or dep.specifier.contains(version, prereleases=True)


def _version_key(package: LockedPackage) -> tuple[bool, Version]:
    return package.version is not None, package.version or Version("0")


def _applied(
    installed: Sequence[LockedPackage], environment: Mapping[str, str]
) -> tuple[Requirement, ...]:
    """The edges among `installed` whose markers hold, given the extras asked of each package.

    The extras are those any installed package asks for, before one version of each name is
    chosen: a requirement that only a version left out asks for is then counted as well.
    """
    extras = _extras(installed, environment)
    return tuple(
        Requirement(by=p, dependency=dep)
        for p in installed
        for dep in p.dependencies or ()
        if any(_holds(dep.marker, environment, e) for e in extras[p.name])
    )


def _extras(
    installed: Sequence[LockedPackage], environment: Mapping[str, str]
) -> dict[NormalizedName, set[str]]:
    """The extras asked of each installed name ("" for none), to a fixed point."""
    extras: dict[NormalizedName, set[str]] = {p.name: {""} for p in installed}
    changed = True
    while changed:
        changed = False
        for package, dep in _edges(installed):
            if dep.name not in extras or not dep.extras:
                continue
            if any(_holds(dep.marker, environment, e) for e in extras[package.name]):
                before = len(extras[dep.name])
                extras[dep.name].update(dep.extras)
                changed = changed or len(extras[dep.name]) != before
    return extras


def _edges(installed: Iterable[LockedPackage]) -> Iterator[tuple[LockedPackage, Dependency]]:
    for package in installed:
        for dep in package.dependencies or ():
            yield package, dep


def _holds(marker: Marker | None, environment: Mapping[str, str], extra: str) -> bool:
    return marker is None or marker.evaluate({**environment, "extra": extra})


def _candidate(
    dep: Dependency, packages: Iterable[LockedPackage], environment: Mapping[str, str]
) -> LockedPackage | None:
    """The locked version the edge asks for whose own marker holds, if any."""
    for package in packages:
        fits = package.version is None or dep.specifier.contains(package.version, True)
        if fits and _holds(package.marker, environment, ""):
            return package
    return None
