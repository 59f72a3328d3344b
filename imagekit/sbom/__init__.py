"""SBOMs of images: what the Inventory says is inside, in the formats tools read.

Each output format is a writer behind one seam (`interface.SbomWriter`, one module per format in
`formats/`); `render_sbom` and `write_sbom` take every format down the same path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.lazy import lazy_exports

if TYPE_CHECKING:
    from imagekit.sbom.document import build_bom
    from imagekit.sbom.formats import writer
    from imagekit.sbom.interface import SbomError, SbomFormat, SbomWriter, SpecVersion
    from imagekit.sbom.write import render_sbom, write_sbom, write_text_atomically

__all__ = [
    "SbomError",
    "SbomFormat",
    "SbomWriter",
    "SpecVersion",
    "build_bom",
    "render_sbom",
    "write_sbom",
    "write_text_atomically",
    "writer",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "document": ("build_bom",),
        "formats": ("writer",),
        "interface": ("SbomError", "SbomFormat", "SbomWriter", "SpecVersion"),
        "write": ("render_sbom", "write_sbom", "write_text_atomically"),
    },
)
