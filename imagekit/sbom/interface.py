"""The seam every SBOM output format plugs into (pip-audit's `_format/interface.py`).

A format is one module in `imagekit.sbom.formats` named after its `SbomFormat` value
(`cyclonedx-json` -> `formats/cyclonedx_json.py`) that exposes `WRITER`, an `SbomWriter`.
Adding one is that file plus its line in `SbomFormat`; `imagekit.sbom.write` gives every
format the same make -> serialise -> validate -> write path.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Protocol

from imagekit.errors import ImagekitError

if TYPE_CHECKING:
    from imagekit.inventory.model import Inventory


class SbomFormat(enum.StrEnum):
    """The output formats, one registration line each."""

    CYCLONEDX_JSON = "cyclonedx-json"
    CYCLONEDX_XML = "cyclonedx-xml"
    SPDX_JSON = "spdx-json"


class SpecVersion(enum.StrEnum):
    """CycloneDX's specification version (SPDX is always written as 2.3)."""

    V1_6 = "1.6"
    V1_5 = "1.5"


class SbomError(ImagekitError):
    """The SBOM could not be made, validated or written; nothing was written."""


class Memo(Protocol):
    """Where a writer keeps what it found of some bytes, for the next document (the scan
    cache's `remembered`/`remember`)."""

    def remembered(self, what: str, inputs: bytes) -> Any: ...

    def remember(self, what: str, inputs: bytes, value: Any) -> None: ...


class SbomWriter(Protocol):
    """Turns an Inventory into the text of one SBOM format, and checks that text."""

    @property
    def format(self) -> SbomFormat:
        """The format this writer writes (the one its module is registered under)."""
        ...

    def title(self, spec: SpecVersion) -> str:
        """The format and version in words, for messages ("CycloneDX 1.6 JSON")."""
        ...

    def serialise(self, inventory: Inventory, *, spec: SpecVersion, reproducible: bool) -> str:
        """The SBOM text, ending in a newline; raises `SbomError` for what the format cannot
        hold. `reproducible` leaves out what changes from run to run (serial, timestamp)."""
        ...

    def validate(
        self, text: str, *, spec: SpecVersion, subject: str, memo: Memo | None = None
    ) -> None:
        """Check `text` against the format's schema; raises `SbomError` naming `subject` and
        the first problem. `memo`: parts found valid before may be taken as valid again (the
        same bytes against the same schema)."""
        ...
