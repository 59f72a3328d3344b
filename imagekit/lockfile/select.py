"""Which of a lock's packages one environment installs.

In requirements.txt, pylock.toml and poetry.lock each package says by its own marker
whether it applies. uv.lock is a graph: a package applies when a path of dependency edges
whose markers hold leads to it from the project (`Lock.root_dependencies`), and among the
versions uv forked, the one whose resolution markers hold is chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.markers import Marker

from imagekit.lockfile.interface import Dependency, Lock, LockedPackage


def packages_for(lock: Lock, environment: Mapping[str, str]) -> tuple[LockedPackage, ...]:
    """The packages `environment` (PEP 508 marker variables) installs, in lock order.

    A dependency the lock has no entry for is skipped here; `imagekit.checks` reports it.
    """
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
