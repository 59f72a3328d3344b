"""The CycloneDX writer both CycloneDX formats share: the model `document.build_bom` makes,
serialised by cyclonedx-python-lib and checked against its bundled schema."""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import dataclass
from typing import Any, assert_never

from cyclonedx.exception import CycloneDxException
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation import make_schemabased_validator

from imagekit.inventory.model import Inventory
from imagekit.sbom._jsonschema import import_jsonschema
from imagekit.sbom.document import build_bom
from imagekit.sbom.interface import Memo, SbomError, SbomFormat, SpecVersion


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

    def validate(
        self, text: str, *, spec: SpecVersion, subject: str, memo: Memo | None = None
    ) -> None:
        import_jsonschema()
        validator = make_schemabased_validator(self.output, schema_version(spec))
        checked = _Checked(text, spec, memo) if memo and self.output is OutputFormat.JSON else None
        error = validator.validate_str(checked.rest if checked else text)
        if error is not None:
            detail = getattr(error.data, "message", None) or str(error.data)
            raise SbomError(
                f"{subject}: the SBOM fails the CycloneDX {spec} schema ({self.format}): {detail} "
                "(nothing was written; this is an imagekit bug: report it with the image)"
            )
        if checked is not None:
            checked.passed()


# What the memo keeps: an item of a top-level list (a component, a dependency) in canonical
# JSON passed the schema of these versions.
_PASSED = "cyclonedx-item-passed"
# The top-level lists whose items the schema checks one by one (`items` a `$ref`, and
# `uniqueItems`), hence whose items can be taken as checked.
_LISTS = ("components", "dependencies")


class _Checked:
    """A CycloneDX JSON document less the components and dependencies that passed the same
    schema before.

    A document is valid when what is left is, and every item left out passed before: each
    item of `components` is checked against `#/definitions/component` alone (of
    `dependencies`, `#/definitions/dependency`), whatever the rest of the document holds. Each
    list must also hold no item twice (`uniqueItems`); a list with one twice keeps all of
    them, for the schema to say so. A rebuilt image's SBOM differs from the last one in a few
    components (the application files), so most of its schema check is the check of those.
    """

    def __init__(self, text: str, spec: SpecVersion, memo: Memo) -> None:
        self.memo = memo
        self.fresh: list[bytes] = []
        document = json.loads(text)
        versions = f"{spec}\0{_version('cyclonedx-python-lib')}\0{_version('jsonschema')}\0"
        if isinstance(document, dict):
            for name in _LISTS:
                self._leave_out(document, name, f"{versions}{name}\0".encode())
        self.rest = json.dumps(document) if isinstance(document, dict) else text

    def _leave_out(self, document: dict[str, Any], name: str, prefix: bytes) -> None:
        items = document.get(name)
        if not isinstance(items, list):
            return
        keys = [prefix + _canonical(x) for x in items]
        if len(set(keys)) != len(keys):
            return
        left = [i for i, key in enumerate(keys) if self.memo.remembered(_PASSED, key) is None]
        self.fresh += [keys[i] for i in left]
        document[name] = [items[i] for i in left]

    def passed(self) -> None:
        """Keep every item that was checked now, as passed."""
        for key in self.fresh:
            self.memo.remember(_PASSED, key, True)


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
