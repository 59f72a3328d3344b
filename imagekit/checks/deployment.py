"""Deployment: the spec's deployment registry must not put this model in a group it conflicts
with (see `imagekit.conflicts.deploy`)."""

from __future__ import annotations

from imagekit.checks.interface import Subject
from imagekit.errors import ErrorCollector, FindingsError


def check_deployment(subject: Subject, collector: ErrorCollector) -> Subject:
    """Every conflict of the model with its deployment group, as findings.
    Raises `InputError` for a registry that is missing or unreadable."""
    if subject.spec.deployment is None:
        return subject
    from imagekit.conflicts.deploy import refuse_conflicting_deployment  # noqa: PLC0415 - reads images

    try:
        for finding in refuse_conflicting_deployment(subject.spec, subject.catalog):
            collector.add(finding)
    except FindingsError as e:
        for finding in e.findings:
            collector.add(finding)
    return subject
