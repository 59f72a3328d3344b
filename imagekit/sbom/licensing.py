"""A package's declared licences (`imagekit.inventory.licences`) as CycloneDX licences."""

from __future__ import annotations

from cyclonedx.model.license import (
    DisjunctiveLicense,
    License,
    LicenseAcknowledgement,
    LicenseExpression,
)
from cyclonedx.spdx import is_supported_id

from imagekit.inventory.licences import DeclaredLicense


def to_cyclonedx(declared: DeclaredLicense) -> list[License]:
    """CycloneDX licences: one expression alone, else one `license` per id or name.

    The schema allows either a single expression or a list of ids and names, never both, so
    an expression among several licences is written as a name.
    """
    ack = LicenseAcknowledgement.DECLARED  # read from the package's metadata, not concluded
    entries = [*declared.expressions, *declared.names]
    if len(entries) == 1 and declared.expressions:
        (only,) = declared.expressions
        if is_supported_id(only):
            return [DisjunctiveLicense(id=only, acknowledgement=ack)]
        return [LicenseExpression(only, acknowledgement=ack)]
    out: list[License] = []
    for expression in declared.expressions:
        if is_supported_id(expression):
            out.append(DisjunctiveLicense(id=expression, acknowledgement=ack))
        else:
            out.append(DisjunctiveLicense(name=expression, acknowledgement=ack))
    out.extend(DisjunctiveLicense(name=name, acknowledgement=ack) for name in declared.names)
    return out
