"""The lock: every package that applies to the target is pinned to one version and hashed,
listed once, consistent with its locked dependencies and with the base's Python; and the
dependencies the spec marks critical or optional are in it."""

from __future__ import annotations

import dataclasses

from packaging.markers import Marker
from packaging.utils import NormalizedName

from imagekit.checks.interface import Subject
from imagekit.errors import ErrorCollector, Location
from imagekit.project.lockfile import Lock, LockedPackage, SourceKind, packages_for
from imagekit.project.spec import ModelSpec
from imagekit.project.target import TargetEnv

_RANGE_OPERATORS = ("<", ">", "~=", "!=", "*")


def check_lock(subject: Subject, collector: ErrorCollector) -> Subject:
    """The lock's packages for the base's Python and the spec's platform; the subject learns
    which of them apply to the target."""
    project = subject.project
    if project is None:
        return subject
    target = TargetEnv(python=project.base.python.version, platform=project.spec.platform)
    return dataclasses.replace(subject, packages=applicable(project.lock, target, collector))


def check_declared(subject: Subject, collector: ErrorCollector) -> Subject:
    """Dependencies the spec marks critical or optional must be in the lock."""
    if subject.project is not None:
        _declared(subject.spec, subject.packages, collector)
    return subject


def applicable(
    lock: Lock, target: TargetEnv, collector: ErrorCollector
) -> tuple[LockedPackage, ...]:
    """Validate every package of the lock for the target; returns those that apply to it."""
    env = target.marker_environment()
    if lock.requires_python is not None and target.python not in lock.requires_python:
        collector.error(
            Location(file=lock.path, key="requires-python"),
            "requires-python",
            f"the lock requires Python {lock.requires_python}, the base has {target.python}",
            "choose a base with a matching Python or re-lock for it",
        )
    # Packages excluded for this target by their markers (or, in uv.lock, by the markers of
    # every edge leading to them) are not errors; nor are Poetry's non-main groups.
    installed = {id(p) for p in packages_for(lock, env)}
    applied: dict[NormalizedName, LockedPackage] = {}
    for pkg in lock.packages:
        if id(pkg) not in installed or (pkg.groups and "main" not in pkg.groups):
            continue
        _check_package(pkg, target, collector)
        first = applied.get(pkg.name)
        if first is None:
            applied[pkg.name] = pkg
        elif first.version == pkg.version and first.specifier == pkg.specifier:
            collector.error(
                pkg.location,
                "duplicate",
                f"{pkg.raw_name} is listed twice (also at {first.location})",
                "keep one entry",
            )
        else:
            collector.error(
                pkg.location,
                "conflict",
                f"{pkg.raw_name} {pkg.specifier or '(any)'} conflicts with "
                f"{first.specifier or '(any)'} at {first.location}",
                "re-lock so that one version is chosen",
            )
    _check_graph(lock, applied, env, collector)
    return tuple(applied.values())


def _check_package(pkg: LockedPackage, target: TargetEnv, collector: ErrorCollector) -> None:
    where = pkg.location
    if pkg.editable:
        collector.error(
            where,
            "editable",
            f"{pkg.raw_name} is an editable install",
            "build a wheel and lock it by version and hash",
        )
    elif pkg.source is SourceKind.DIRECTORY:
        collector.error(
            where,
            "local-directory",
            f"{pkg.raw_name} comes from a local directory",
            "build a wheel and lock it by version and hash",
        )
    elif pkg.source in (SourceKind.URL, SourceKind.VCS, SourceKind.PATH) and not pkg.hashes:
        collector.error(
            where,
            "direct-unhashed",
            f"{pkg.raw_name} comes from {pkg.url or pkg.source.value} without a hash",
            "add --hash=sha256:... or lock it from an index",
        )
    elif pkg.version is None:
        is_range = any(op in pkg.specifier for op in _RANGE_OPERATORS)
        what = f"a version range ({pkg.specifier})" if is_range else "no version"
        collector.error(
            where,
            "unpinned",
            f"{pkg.raw_name} is not pinned to one exact version: {what}",
            f"pin it: {pkg.name}==<version> (re-lock with hashes)",
        )
    elif not pkg.hashes:
        collector.error(
            where,
            "unhashed",
            f"{pkg.raw_name}=={pkg.version} has no sha256 hash",
            "re-lock with hashes (pip-compile --generate-hashes)",
        )
    if pkg.requires_python is not None and target.python not in pkg.requires_python:
        collector.error(
            where,
            "requires-python",
            f"{pkg.raw_name} {pkg.version} requires Python {pkg.requires_python}, "
            f"the base has {target.python}",
            "choose a base with a matching Python or lock an older version",
        )


def _applies(marker: Marker | None, env: dict[str, str]) -> bool:
    return marker is None or marker.evaluate(env)


def _check_graph(
    lock: Lock,
    applied: dict[NormalizedName, LockedPackage],
    env: dict[str, str],
    collector: ErrorCollector,
) -> None:
    """Where the format records dependencies, each one the target needs must be locked."""
    for pkg in applied.values():
        for dep in pkg.dependencies or ():
            dep_env = {**env, "extra": ""}
            if not _applies(dep.marker, dep_env):
                continue
            locked = applied.get(dep.name)
            if locked is None:
                collector.error(
                    pkg.location,
                    "missing-dependency",
                    f"{pkg.raw_name} needs {dep.name}, which the lock does not "
                    "provide for this target",
                    f"re-lock for {lock.path.name}'s target",
                )
            elif (
                locked.version is not None
                and dep.specifier
                and not dep.specifier.contains(locked.version, prereleases=True)
            ):
                collector.error(
                    locked.location,
                    "conflict",
                    f"{pkg.raw_name} needs {dep.name}{dep.specifier}, the lock has "
                    f"{locked.version}",
                    "re-lock so that the versions agree",
                )


def _declared(
    spec: ModelSpec, packages: tuple[LockedPackage, ...], collector: ErrorCollector
) -> None:
    locked = {p.name for p in packages}
    for kind, names in (("critical", spec.critical), ("optional", spec.optional)):
        for name in sorted(names - locked):
            collector.error(
                spec.location(f"dependencies.{kind}"),
                "missing-dependency",
                f"{name} is marked {kind} but is not in {spec.lockfile.name} for this target",
                f"add {name} to the lock or remove it here",
            )
