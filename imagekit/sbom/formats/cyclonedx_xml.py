"""CycloneDX XML, for the tools that read only the XML serialisation."""

from __future__ import annotations

from cyclonedx.schema import OutputFormat

from imagekit.sbom.cyclonedx import CycloneDxWriter
from imagekit.sbom.interface import SbomFormat

WRITER = CycloneDxWriter(format=SbomFormat.CYCLONEDX_XML, output=OutputFormat.XML)
