"""The Project: a model's spec, its lock and its base, read together and all present.

Everything downstream of `load_project` (the checks, the planner, the builds) takes a Project, so
none of them asks again whether the lock could be read or the base exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imagekit.errors import ErrorCollector, FindingsError
from imagekit.project.lockfile import Lock, read_lock
from imagekit.project.spec import ModelSpec, load_spec

if TYPE_CHECKING:
    from imagekit.plan.catalog import BaseImage, Catalog


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A model project whose spec, lock and base could all be read."""

    spec: ModelSpec
    lock: Lock
    base: BaseImage


def load_project(path: Path, catalog: Catalog) -> Project:
    """Read the spec of a model folder (or spec file), its lock and its base from `catalog`.

    Raises `InputError` for a spec that cannot be read, and `FindingsError` naming every other
    problem at once: a base the catalog lacks or not built for the spec's platform, a lock
    that cannot be read.
    """
    spec = load_spec(path)
    collector = ErrorCollector()
    project = read_project(spec, catalog, collector)
    if project is None or collector.findings:
        raise FindingsError(collector.findings)
    return project


def read_project(spec: ModelSpec, catalog: Catalog, collector: ErrorCollector) -> Project | None:
    """The Project of a loaded spec, or None once `collector` holds every reason it cannot be
    read (so the checks that need only the spec still run and report in the same pass).
    A base not built for the spec's platform is an error here but still read, so the lock is
    judged against it in the same pass."""
    base = _base(spec, catalog, collector)
    lock: Lock | None = None
    with collector.collect():
        lock = read_lock(spec.lockfile)
    if base is None or lock is None:
        return None
    return Project(spec=spec, lock=lock, base=base)


def _base(spec: ModelSpec, catalog: Catalog, collector: ErrorCollector) -> BaseImage | None:
    """The spec's base, if the catalog holds it for the spec's platform."""
    if spec.base not in catalog.bases:
        collector.error(
            spec.location("base"),
            "unknown-base",
            f"base image {spec.base!r} is not in the catalog ({catalog.directory})",
            f"use one of: {', '.join(sorted(catalog.bases))}",
        )
        return None
    base = catalog.get(spec.base)
    if spec.platform not in base.platforms:
        collector.error(
            spec.location("platform"),
            "platform",
            f"base {base.name} is not built for {spec.platform}",
            f"use one of: {', '.join(base.platforms)}",
        )
    return base
