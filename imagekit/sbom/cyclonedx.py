"""The CycloneDX writer both CycloneDX formats share: the model `document.build_bom` makes,
serialised by cyclonedx-python-lib and checked against its bundled schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from cyclonedx.exception import CycloneDxException
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation import make_schemabased_validator

from imagekit.inventory.model import Inventory
from imagekit.sbom._jsonschema import import_jsonschema
from imagekit.sbom.document import build_bom
from imagekit.sbom.interface import SbomError, SbomFormat, SpecVersion


def schema_version(spec: SpecVersion) -> SchemaVersion:
    match spec:
        case SpecVersion.V1_6:
            return SchemaVersion.V1_6
        case SpecVersion.V1_5:
            return SchemaVersion.V1_5
        case _:
            assert_never(spec)


@dataclass(frozen=True, slots=True, kw_only=True)
class CycloneDxWriter:
    """CycloneDX in one of the library's serialisations (JSON or XML)."""

    format: SbomFormat
    output: OutputFormat

    def title(self, spec: SpecVersion) -> str:
        return f"CycloneDX {spec} {self.output.name}"

    def serialise(self, inventory: Inventory, *, spec: SpecVersion, reproducible: bool) -> str:
        bom = build_bom(inventory, reproducible=reproducible)
        try:
            outputter = make_outputter(bom, self.output, schema_version(spec))
            text = outputter.output_as_string(indent=2)
        except CycloneDxException as e:
            raise SbomError(f"cannot write CycloneDX {spec} {self.format}: {e}") from e
        return text if text.endswith("\n") else text + "\n"

    def validate(self, text: str, *, spec: SpecVersion, subject: str) -> None:
        import_jsonschema()
        validator = make_schemabased_validator(self.output, schema_version(spec))
        error = validator.validate_str(text)
        if error is not None:
            detail = getattr(error.data, "message", None) or str(error.data)
            raise SbomError(
                f"{subject}: the SBOM fails the CycloneDX {spec} schema ({self.format}): {detail} "
                "(nothing was written; this is an imagekit bug: report it with the image)"
            )
