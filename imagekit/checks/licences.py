"""Licence policy: the spec's policy on the locked packages and the base's Python packages,
judged from their own METADATA (License-Expression, License, classifiers) before the build. A
denied licence is an error; the policy is applied again to the built image's SBOM."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from imagekit.checks.interface import Subject
from imagekit.conflicts.index import MetadataRead
from imagekit.errors import ErrorCollector, Location
from imagekit.project import Project
from imagekit.project.lockfile import LockedPackage, PinnedPackage, Sha256
from imagekit.project.target import Target


def check_licence_policy(subject: Subject, collector: ErrorCollector) -> Subject:
    """Every licence the spec's policy denies, among the locked and the base's packages."""
    project = subject.project
    if project is None or project.spec.license_policy is None:
        return subject
    from imagekit.licenses import (  # noqa: PLC0415 - only for a spec with a policy
        LicensePolicy,
        Verdict,
        component_of_metadata,
        evaluate,
    )

    policy = None
    with collector.collect():
        policy = LicensePolicy.load(project.spec.license_policy)
    if policy is None:
        return subject
    base = _read_base_metadata(subject, project)
    metadata = {**base.metadata, **subject.metadata}
    components = [component_of_metadata(m) for _, m in sorted(metadata.items())]
    for decision in evaluate(components, policy).of(Verdict.DENY):
        collector.add(decision.finding())
    if base.unread:
        names = ", ".join(u.package.raw_name for u in base.unread)
        collector.warn(
            project.spec.location("license_policy"),
            "licence-not-judged",
            f"the licences of {names} (carried by base {project.base.name}) are judged only "
            "on the built image: their metadata could not be read",
            "nothing to do before the build; run `imagekit check` with the index reachable "
            "to judge them now",
        )
    return subject


def _read_base_metadata(subject: Subject, project: Project) -> MetadataRead:
    """The METADATA of the base's Python packages the lock does not re-pin."""
    base = project.base
    carried = [
        _base_package(p, base.file) for p in base.python_packages if p.name not in subject.metadata
    ]
    target = Target(python=base.python.version, platform=project.spec.platform, glibc=base.os.glibc)
    # The base's wheels are in the base, not fetched by the build: metadata files only.
    return dataclasses.replace(subject.source, fetch_missing=False).read(carried, target)


def _base_package(package: PinnedPackage, where: Path) -> LockedPackage:
    """A package the base carries, as a lock would name it (pinned, with its hashes)."""
    return LockedPackage(
        name=package.name,
        raw_name=package.name,
        location=Location(file=where),
        version=package.version,
        specifier=f"=={package.version}",
        hashes=frozenset(Sha256(h) for h in package.sha256),
    )
