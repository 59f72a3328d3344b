"""CycloneDX SBOMs of images: what the Inventory says is inside, in the format tools read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.lazy import lazy_exports

if TYPE_CHECKING:
    from imagekit.sbom.document import (
        SbomError,
        build_bom,
        render_sbom,
        serialize,
        validate,
        write_sbom,
        write_text_atomically,
    )
    from imagekit.sbom.formats import SbomFormat, SpecVersion
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

__getattr__ = lazy_exports(
    __name__,
    {
        "document": (
            "SbomError",
            "build_bom",
            "render_sbom",
            "serialize",
            "validate",
            "write_sbom",
            "write_text_atomically",
        ),
        "formats": ("SbomFormat", "SpecVersion"),
        "licensing": (
            "NOASSERTION",
            "DeclaredLicense",
            "declared_by_dist",
            "spdx",
        ),
    },
)
