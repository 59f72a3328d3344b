"""The components whose licences a policy judges, read from a CycloneDX JSON SBOM.

An image is judged through its own SBOM (`components_from_inventory`), so an image and the SBOM
written from it always get the same answer. Not judged: the operating system, device drivers
(on the host, not in the image), files and platforms, and components another one provides
(`imagekit:provided-by`: judged through their provider).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.errors import InputError, Location
from imagekit.inventory.model import Inventory
from imagekit.limits import MAX_SBOM_DOCUMENT, load_json
from imagekit.sbom import NOASSERTION, SbomFormat, render_sbom, spdx
from imagekit.sbom.components import PROVIDED_BY

NOT_JUDGED = frozenset({"operating-system", "device-driver", "file", "platform", "container"})


@dataclass(frozen=True, slots=True, kw_only=True)
class LicensedComponent:
    """A package, model or dataset and the licences it declares."""

    name: str
    version: str | None
    kind: str  # the purl type (deb, pypi, ...), else the CycloneDX component type
    expressions: tuple[str, ...]  # canonical SPDX expressions
    names: tuple[str, ...]  # licences that are not SPDX, as written
    purl: str | None = None

    @property
    def licence(self) -> str:
        """All its licences as one text, for display."""
        found = [*self.expressions, *self.names]
        if len(found) > 1:
            found = [f"({x})" if " " in x else x for x in found]
        return " AND ".join(found) or NOASSERTION

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "purl": self.purl,
            "expressions": list(self.expressions),
            "names": list(self.names),
        }


def _licences(entries: object, where: str, source: Path) -> tuple[list[str], list[str]]:
    expressions: list[str] = []
    names: list[str] = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            raise InputError(
                Location(file=source, key=f"{where}.licenses[{i}]"),
                "must be an object",
                "write {'license': {...}} or {'expression': ...}",
            )
        licence = entry.get("license")
        text = entry.get("expression")
        if isinstance(licence, dict):
            text = licence.get("id") or licence.get("name")
        if not isinstance(text, str) or not text.strip():
            continue
        canonical = spdx(text)
        if canonical:
            expressions.append(canonical)
        else:
            names.append(text.strip())
    return expressions, names


def _walk(components: object, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, component in enumerate(components if isinstance(components, list) else []):
        if isinstance(component, dict):
            path = f"{where}[{i}]"
            yield path, component
            yield from _walk(component.get("components"), f"{path}.components")


def _judged(component: Mapping[str, Any]) -> bool:
    if component.get("type") in NOT_JUDGED:
        return False
    props = component.get("properties")
    return not any(
        isinstance(p, dict) and p.get("name") == PROVIDED_BY
        for p in (props if isinstance(props, list) else [])
    )


def components_from_sbom(data: Mapping[str, Any], source: Path) -> tuple[LicensedComponent, ...]:
    """The judged components of a parsed CycloneDX JSON document, nested ones included."""
    if data.get("bomFormat") != "CycloneDX":
        raise InputError(
            Location(file=source, key="bomFormat"),
            "not a CycloneDX document",
            "pass a CycloneDX JSON SBOM (imagekit sbom IMAGE -o FILE) or an image",
        )
    out: list[LicensedComponent] = []
    for where, component in _walk(data.get("components"), "components"):
        if not _judged(component):
            continue
        expressions, names = _licences(component.get("licenses"), where, source)
        purl = component.get("purl")
        purl = purl if isinstance(purl, str) else None
        kind = purl[4:].split("/", 1)[0] if purl and purl.startswith("pkg:") else None
        version = component.get("version")
        out.append(
            LicensedComponent(
                name=str(component.get("name", "")),
                version=version if isinstance(version, str) else None,
                kind=kind or str(component.get("type", "library")),
                expressions=tuple(expressions),
                names=tuple(names),
                purl=purl,
            )
        )
    return tuple(out)


def read_sbom(path: Path) -> tuple[LicensedComponent, ...]:
    """The judged components of a CycloneDX JSON file; raises `InputError`."""
    try:
        size = path.stat().st_size
        raw = path.read_bytes() if size <= MAX_SBOM_DOCUMENT else b""
    except FileNotFoundError as e:
        raise InputError(path, "file not found", "correct the path") from e
    except OSError as e:
        raise InputError(path, f"cannot read: {e}", "pass a readable UTF-8 file") from e
    if size > MAX_SBOM_DOCUMENT:
        raise InputError(
            path, f"{size} bytes, more than any SBOM ({MAX_SBOM_DOCUMENT})", "pass a real SBOM"
        )
    try:
        data = load_json(raw, path, max_bytes=MAX_SBOM_DOCUMENT)
    except InputError as e:
        message = e.message.removeprefix("malformed JSON: ")
        raise InputError(e.location, f"not JSON: {message}", "pass a CycloneDX JSON SBOM") from e
    if not isinstance(data, dict):
        raise InputError(path, "not a JSON object", "pass a CycloneDX JSON SBOM")
    return components_from_sbom(data, path)


def components_from_inventory(inventory: Inventory) -> tuple[LicensedComponent, ...]:
    """The judged components of an image, read from the SBOM imagekit writes for it."""
    text = render_sbom(inventory, fmt=SbomFormat.CYCLONEDX_JSON, reproducible=True)
    return components_from_sbom(json.loads(text), Path(inventory.image.reference))
