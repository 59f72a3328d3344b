"""The base: a lock may re-pin what the base carries only to the same version, and system
packages need a base built from a Debian archive imagekit can fetch from on the host.
(A base the catalog lacks, or not built for the spec's platform, is found by `load_project`.)"""

from __future__ import annotations

from imagekit.checks.interface import Subject
from imagekit.errors import ErrorCollector


def check_base_packages(subject: Subject, collector: ErrorCollector) -> Subject:
    """Each locked package the base carries is locked at the base's version."""
    if subject.project is None:
        return subject
    base = subject.project.base
    carried = base.package_map()
    for pkg in subject.packages:
        theirs = carried.get(pkg.name)
        if theirs is not None and pkg.version is not None and pkg.version != theirs.version:
            collector.error(
                pkg.location,
                "base-conflict",
                f"{pkg.raw_name} {pkg.version} conflicts with {theirs.version} "
                f"carried by base {base.name}",
                f"lock {pkg.name}=={theirs.version} or choose another base",
            )
    return subject


def check_system_packages(subject: Subject, collector: ErrorCollector) -> Subject:
    """System packages are fetched on the host from the base's own Debian archive."""
    spec, project = subject.spec, subject.project
    if project is not None and spec.system_packages and project.base.apt_source is None:
        collector.error(
            spec.location("system.packages"),
            "system-packages",
            f"base {project.base.name} was not built from a Debian archive imagekit knows, "
            "so its system packages cannot be fetched and verified on the host",
            "use a base built from a Debian recipe, or drop [system]",
        )
    return subject
