"""The SPDX 2 JSON reader: any SPDX JSON SBOM (imagekit's, syft's, spdx-tools') into the package
view the reports read, the same view `imagekit.inventory.cyclonedx` makes of CycloneDX.

Every package is read except the ones the document DESCRIBES (the image or folder itself, as
CycloneDX's metadata component), with its purl (a `purl` external reference), SPDX id, declared
licence (else the concluded one), SHA-256 and the `imagekit:NAME=VALUE` annotations imagekit
writes, which carry the CycloneDX type and properties across. The document is bounded in size
and nesting as a CycloneDX one is (`cyclonedx.load_document`); a wrong shape is an `InputError`
naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from imagekit.errors import InputError, Location
from imagekit.inventory.cyclonedx import load_document
from imagekit.inventory.licences import DeclaredLicense, spdx
from imagekit.inventory.packages import PackageEntry, PackageView

_FIX = "pass an SPDX 2.x JSON SBOM"
COMPONENT_TYPE = "imagekit:component-type"  # the CycloneDX type, as an SPDX annotation
_NOTHING = frozenset({"NOASSERTION", "NONE", ""})
# SPDX primaryPackagePurpose -> the CycloneDX component type the reports know
_TYPE = {
    "APPLICATION": "application",
    "CONTAINER": "container",
    "DEVICE": "device",
    "FILE": "file",
    "FIRMWARE": "firmware",
    "FRAMEWORK": "framework",
    "OPERATING_SYSTEM": "operating-system",
    "OPERATING-SYSTEM": "operating-system",
}


def read_spdx(path: Path) -> PackageView:
    """The package view of an SPDX JSON file; raises `InputError`."""
    return view_of_spdx(load_document(path), path)


def view_of_spdx(data: Mapping[str, Any], path: Path) -> PackageView:
    """The package view of a parsed SPDX JSON document; raises `InputError` naming the key of
    a part with the wrong shape."""
    version = data.get("spdxVersion")
    if not isinstance(version, str) or not version.startswith("SPDX-2."):
        raise InputError(
            Location(file=path, key="spdxVersion"),
            f'not an SPDX 2 JSON document ("spdxVersion" is {str(version)[:40]!r})',
            f"{_FIX}; imagekit sbom IMAGE --format spdx-json -o FILE writes one",
        )
    described = _described(data, path)
    extracted = _extracted(data.get("hasExtractedLicensingInfos", []), path)
    entries = tuple(
        _entry(package, where, extracted)
        for where, package in _objects(data.get("packages", []), "packages", path)
        if _text(package.get("SPDXID")) not in described
    )
    # No `sbom`: what is written into an input SBOM (scan --sbom-out) is CycloneDX.
    return PackageView(reference=str(path), entries=entries)


def _objects(value: object, key: str, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(value, list):
        raise InputError(Location(file=path, key=key), "must be an array", "fix the SBOM")
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise InputError(Location(file=path, key=where), "must be an object", "fix the SBOM")
        yield where, item


def _described(data: Mapping[str, Any], path: Path) -> set[str]:
    """The SPDX ids of what the document describes: its subject, not one of its packages."""
    document = data.get("SPDXID", "SPDXRef-DOCUMENT")
    listed = data.get("documentDescribes")
    found = {x for x in (listed if isinstance(listed, list) else []) if isinstance(x, str)}
    for _, r in _objects(data.get("relationships", []), "relationships", path):
        kind, element, related = (
            r.get(k) for k in ("relationshipType", "spdxElementId", "relatedSpdxElement")
        )
        if kind == "DESCRIBES" and element == document and isinstance(related, str):
            found.add(related)
        elif kind == "DESCRIBED_BY" and related == document and isinstance(element, str):
            found.add(element)
    return found


def _extracted(value: object, path: Path) -> dict[str, str]:
    """LicenseRef id -> the licence's name (else its text), as the document extracted it."""
    out: dict[str, str] = {}
    for _, item in _objects(value, "hasExtractedLicensingInfos", path):
        key, name, text = (item.get(k) for k in ("licenseId", "name", "extractedText"))
        label = name if isinstance(name, str) and name.strip() else text
        if isinstance(key, str) and isinstance(label, str) and label.strip():
            out[key] = label.strip()
    return out


def _entry(package: dict[str, Any], where: str, extracted: Mapping[str, str]) -> PackageEntry:
    properties = _annotations(package.get("annotations"))
    purpose = package.get("primaryPackagePurpose")
    kind = properties.pop(COMPONENT_TYPE, None) or _TYPE.get(str(purpose), "library")
    return PackageEntry(
        name=str(package.get("name", "")),
        version=_text(package.get("versionInfo")),
        type=kind,
        purl=_purl(package.get("externalRefs")),
        bom_ref=_text(package.get("SPDXID")),
        licence=_licence(package, extracted),
        properties=properties,
        sha256=_sha256(package.get("checksums")),
        where=where,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _annotations(value: object) -> dict[str, str]:
    """`imagekit:NAME=VALUE` annotations as properties; other annotations are prose."""
    out: dict[str, str] = {}
    for item in value if isinstance(value, list) else []:
        comment = item.get("comment") if isinstance(item, dict) else None
        if isinstance(comment, str) and comment.startswith("imagekit:") and "=" in comment:
            name, _, text = comment.partition("=")
            out[name] = text
    return out


def _purl(value: object) -> str | None:
    return next(
        (
            str(ref["referenceLocator"])
            for ref in (value if isinstance(value, list) else [])
            if isinstance(ref, dict) and ref.get("referenceType") == "purl"
            if isinstance(ref.get("referenceLocator"), str)
        ),
        None,
    )


def _sha256(value: object) -> str | None:
    return next(
        (
            str(c["checksumValue"])
            for c in (value if isinstance(value, list) else [])
            if isinstance(c, dict) and c.get("algorithm") == "SHA256"
            if isinstance(c.get("checksumValue"), str)
        ),
        None,
    )


def _licence(package: dict[str, Any], extracted: Mapping[str, str]) -> DeclaredLicense:
    """The declared licence, else the concluded one: each AND-ed part an SPDX expression, or a
    name (a LicenseRef's extracted name, or text that is no expression)."""
    text = next(
        (
            value.strip()
            for key in ("licenseDeclared", "licenseConcluded")
            if isinstance(value := package.get(key), str) and value.strip() not in _NOTHING
        ),
        "",
    )
    expressions: list[str] = []
    names: list[str] = []
    for part in _conjuncts(text) if text else []:
        if part in extracted:
            names.append(extracted[part])
        elif canonical := spdx(part):
            expressions.append(canonical)
        else:
            names.append(part)
    return DeclaredLicense(
        expressions=tuple(dict.fromkeys(expressions)), names=tuple(dict.fromkeys(names))
    )


def _conjuncts(expression: str) -> list[str]:
    """The parts of `expression` joined by AND outside parentheses, each without the
    parentheses around it whole."""
    parts: list[str] = []
    depth = 0
    start = 0
    words = expression.split(" ")
    for i, word in enumerate(words):
        depth += word.count("(") - word.count(")")
        if depth == 0 and word == "AND":
            parts.append(" ".join(words[start:i]))
            start = i + 1
    parts.append(" ".join(words[start:]))
    return [_unwrap(p.strip()) for p in parts if p.strip()]


def _unwrap(part: str) -> str:
    """`part` without one pair of parentheses around it whole ("(A OR B)" -> "A OR B")."""
    if not (part.startswith("(") and part.endswith(")")):
        return part
    depth = 0
    for i, char in enumerate(part):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(part) - 1:
            return part  # "(A) AND (B)": the first parenthesis closes before the end
    return part[1:-1].strip()
