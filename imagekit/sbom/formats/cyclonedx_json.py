"""CycloneDX JSON: what Dependency-Track, grype and trivy read; the build's own SBOM."""

from __future__ import annotations

from cyclonedx.schema import OutputFormat

from imagekit.sbom.cyclonedx import CycloneDxWriter
from imagekit.sbom.interface import SbomFormat

WRITER = CycloneDxWriter(format=SbomFormat.CYCLONEDX_JSON, output=OutputFormat.JSON)
