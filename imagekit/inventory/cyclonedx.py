"""The one CycloneDX JSON reader: any SBOM (imagekit's, syft's, cyclonedx-py's) into the package
view the reports read (`imagekit.inventory.packages`).

Every component is read, nested ones included, with its purl, bom-ref, licences (SPDX where
they parse, names otherwise), SHA-256 and properties. The document is bounded in size and
nesting (`imagekit.limits`); a wrong shape is an `InputError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from imagekit.errors import InputError, Location
from imagekit.inventory.licences import DeclaredLicense, spdx
from imagekit.inventory.packages import PackageEntry, PackageView
from imagekit.limits import MAX_SBOM_DOCUMENT, load_json

_FIX = "pass a CycloneDX JSON SBOM"


def load_document(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, at most `MAX_SBOM_DOCUMENT` bytes; raises `InputError`."""
    try:
        size = path.stat().st_size
        raw = path.read_bytes() if size <= MAX_SBOM_DOCUMENT else b""
    except FileNotFoundError as e:
        raise InputError(path, "file not found", "correct the path") from e
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}", "check the path") from e
    if size > MAX_SBOM_DOCUMENT:
        raise InputError(
            path, f"{size} bytes, more than any SBOM ({MAX_SBOM_DOCUMENT})", "pass a real SBOM"
        )
    try:
        data = load_json(raw, path, max_bytes=MAX_SBOM_DOCUMENT)
    except InputError as e:
        message = e.message.removeprefix("malformed JSON: ")
        raise InputError(e.location, f"not JSON: {message}", _FIX) from e
    if not isinstance(data, dict):
        raise InputError(path, "not a JSON object", _FIX)
    return data


def read_cyclonedx(path: Path) -> PackageView:
    """The package view of a CycloneDX JSON file; raises `InputError`."""
    return view_of_cyclonedx(load_document(path), path)


def view_of_cyclonedx(data: Mapping[str, Any], path: Path) -> PackageView:
    """The package view of a parsed CycloneDX JSON document; raises `InputError` naming the
    key of a part with the wrong shape."""
    if data.get("bomFormat") != "CycloneDX":
        raise InputError(
            Location(file=path, key="bomFormat"),
            'not a CycloneDX SBOM (no "bomFormat": "CycloneDX")',
            f"{_FIX}; imagekit sbom IMAGE -o FILE writes one",
        )
    entries = tuple(
        _entry(component, where, path)
        for where, component in _walk(data.get("components", []), "components", path)
    )
    return PackageView(reference=str(path), entries=entries, sbom=path)


def _walk(value: object, key: str, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(value, list):
        raise InputError(Location(file=path, key=key), "must be an array", "fix the SBOM")
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise InputError(Location(file=path, key=where), "must be an object", "fix the SBOM")
        yield where, item
        yield from _walk(item.get("components", []), f"{where}.components", path)


def _entry(component: dict[str, Any], where: str, path: Path) -> PackageEntry:
    return PackageEntry(
        name=str(component.get("name", "")),
        version=_text(component.get("version")),
        type=str(component.get("type", "library")),
        purl=_text(component.get("purl")),
        bom_ref=_text(component.get("bom-ref")),
        licence=_licences(component.get("licenses"), where, path),
        properties=_properties(component.get("properties")),
        sha256=_sha256(component.get("hashes")),
        where=where,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _licences(entries: object, where: str, path: Path) -> DeclaredLicense:
    expressions: list[str] = []
    names: list[str] = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            raise InputError(
                Location(file=path, key=f"{where}.licenses[{i}]"),
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
    return DeclaredLicense(expressions=tuple(expressions), names=tuple(names))


def _properties(value: object) -> dict[str, str]:
    return {
        str(p["name"]): str(p.get("value", ""))
        for p in (value if isinstance(value, list) else [])
        if isinstance(p, dict) and "name" in p
    }


def _sha256(value: object) -> str | None:
    return next(
        (
            str(h.get("content"))
            for h in (value if isinstance(value, list) else [])
            if isinstance(h, dict) and h.get("alg") == "SHA-256"
        ),
        None,
    )
