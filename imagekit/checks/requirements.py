"""Requirement conflicts: what each locked wheel's METADATA requires must be met by the lock
and the base (see `imagekit.conflicts.lockcheck`); the METADATA read is kept for the licence
policy."""

from __future__ import annotations

import dataclasses

from imagekit.checks.interface import Subject
from imagekit.conflicts.lockcheck import read_requirements
from imagekit.errors import ErrorCollector
from imagekit.project.target import Target


def check_requirements(subject: Subject, collector: ErrorCollector) -> Subject:
    """Report every requirement the lock and the base leave unmet; the subject learns the
    METADATA read."""
    project = subject.project
    if project is None:
        return subject
    base = project.base
    wheels = Target(python=base.python.version, platform=project.spec.platform, glibc=base.os.glibc)
    read = read_requirements(
        project.lock, subject.packages, base, wheels, collector, source=subject.source
    )
    return dataclasses.replace(subject, metadata=read)
