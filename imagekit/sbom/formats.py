"""The SBOM formats and CycloneDX versions imagekit writes: kept apart from the writer, which
loads the CycloneDX library, so that the CLI can offer them as choices without loading it."""

from __future__ import annotations

import enum


class SbomFormat(enum.StrEnum):
    CYCLONEDX_JSON = "cyclonedx-json"
    CYCLONEDX_XML = "cyclonedx-xml"


class SpecVersion(enum.StrEnum):
    V1_6 = "1.6"
    V1_5 = "1.5"
