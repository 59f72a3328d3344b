"""CycloneDX SBOMs of images: what the Inventory says is inside, in the format tools read."""

from __future__ import annotations

from imagekit.sbom.document import (
    SbomError,
    SbomFormat,
    SpecVersion,
    build_bom,
    render_sbom,
    serialize,
    validate,
    write_sbom,
    write_text_atomically,
)
from imagekit.sbom.licensing import NOASSERTION, DeclaredLicense, declared_by_dist, spdx

__all__ = [
    "NOASSERTION",
    "DeclaredLicense",
    "SbomError",
    "SbomFormat",
    "SpecVersion",
    "build_bom",
    "declared_by_dist",
    "render_sbom",
    "serialize",
    "spdx",
    "validate",
    "write_sbom",
    "write_text_atomically",
]
