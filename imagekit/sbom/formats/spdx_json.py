"""SPDX 2.3 JSON: what SPDX-only consumers (and `syft convert`) read.

The document is the CycloneDX model of the image (`document.build_bom`) written as SPDX, so the
two formats list the same things from one source: every component is an SPDX package (the ML
model, the datasets, the CUDA runtime and the host's driver included, with a
`primaryPackagePurpose`), its purl an `externalRef`, its SHA-256 a checksum, its licences the
declared licence (nothing is concluded: `licenseConcluded` is NOASSERTION), and each
`imagekit:` property an annotation `NAME=VALUE`, which `imagekit.inventory.spdx` reads back.
The image is the package the document DESCRIBES; it CONTAINS what is in it, DEPENDS_ON the
driver on the host, and is related (OTHER) to the datasets its model came from; the
dependency graph is DEPENDS_ON.

The text is checked against SPDX's own 2.3 JSON schema (`imagekit/data/spdx-schema-2.3.json`,
spdx/spdx-spec branch support/2.3 `schemas/spdx-schema.json` at 214f23d, CC-BY-3.0) and for
SPDX ids that are defined once and referenced only when defined. SPDX 3.0 is not written:
spdx-tools 0.8, the maintained Python library, marks its 3.0 support experimental.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from cyclonedx.model.license import LicenseExpression

from imagekit import __version__
from imagekit.inventory.licences import spdx
from imagekit.inventory.model import Inventory
from imagekit.inventory.spdx import COMPONENT_TYPE
from imagekit.sbom._jsonschema import import_jsonschema
from imagekit.sbom.document import build_bom
from imagekit.sbom.interface import Memo, SbomError, SbomFormat, SpecVersion

SPDX_VERSION = "SPDX-2.3"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
TOOL = f"Tool: imagekit-{__version__}"
REPRODUCIBLE_DATE = "1970-01-01T00:00:00Z"  # creationInfo.created is required
NOASSERTION = "NOASSERTION"
# CycloneDX component type -> SPDX 2.3 primaryPackagePurpose (a model is a file in the image;
# a dataset and the host's driver have no purpose of their own in 2.3)
_PURPOSE = {
    "application": "APPLICATION",
    "container": "CONTAINER",
    "device": "DEVICE",
    "file": "FILE",
    "firmware": "FIRMWARE",
    "framework": "FRAMEWORK",
    "library": "LIBRARY",
    "machine-learning-model": "FILE",
    "operating-system": "OPERATING_SYSTEM",
}
_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")
_LOCATION = re.compile(r"^(https?|ftp|sftp)://\S+$|^(git|hg|svn|bzr)\+\S+$")


def _slug(text: str) -> str:
    return _ID_CHARS.sub("-", text).strip("-") or "x"


@dataclass(slots=True)
class _Ids:
    """SPDX ids made from readable text, each unique: a clash gets a hash of its text."""

    taken: dict[str, str] = field(default_factory=dict)  # id -> the text it was made from

    def make(self, prefix: str, text: str) -> str:
        candidate = f"{prefix}{_slug(text)}"
        if self.taken.get(candidate, text) != text:
            candidate += "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
        self.taken[candidate] = text
        return candidate


@dataclass(slots=True)
class _Document:
    """Packages, relationships and extracted licences of one SPDX document."""

    created: str
    package_ids: _Ids = field(default_factory=_Ids)
    licence_ids: _Ids = field(default_factory=_Ids)
    extracted: dict[str, str] = field(default_factory=dict)  # LicenseRef-id -> its text
    by_ref: dict[str, str] = field(default_factory=dict)  # CycloneDX bom-ref -> SPDX id

    def annotation(self, comment: str) -> dict[str, str]:
        return {
            "annotationDate": self.created,
            "annotationType": "OTHER",
            "annotator": TOOL,
            "comment": comment,
        }

    def licence(self, component: Component) -> str:
        """The declared licence as one SPDX expression: SPDX has one per package, so the
        component's licences are joined by AND, each kept whole in parentheses (which
        `imagekit.inventory.spdx` splits again); a name that is no SPDX expression becomes a
        LicenseRef holding its text."""
        parts: list[str] = []
        for entry in component.licenses:
            if isinstance(entry, LicenseExpression):
                text: str | None = entry.value
            else:
                text = entry.id or (entry.name and spdx(entry.name)) or None
                if text is None and entry.name:
                    text = self.licence_ids.make("LicenseRef-", entry.name)
                    self.extracted[text] = entry.name
            if text:
                parts.append(f"({text})" if " " in text else text)
        return " AND ".join(dict.fromkeys(parts)) or NOASSERTION

    def package(self, component: Component) -> dict[str, Any]:
        ref = str(component.bom_ref.value)
        spdx_id = self.package_ids.make("SPDXRef-", ref)
        self.by_ref[ref] = spdx_id
        kind = component.type.value
        out: dict[str, Any] = {
            "SPDXID": spdx_id,
            "name": component.name,
            "downloadLocation": _download_location(component),
            "filesAnalyzed": False,
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": self.licence(component),
            "copyrightText": component.copyright or NOASSERTION,
            "primaryPackagePurpose": _PURPOSE.get(kind, "OTHER"),
        }
        if component.version:
            out["versionInfo"] = component.version
        if component.description:
            out["description"] = component.description
        checksums = [
            {"algorithm": "SHA256", "checksumValue": h.content}
            for h in component.hashes
            if h.alg.value == "SHA-256"
        ]
        if checksums:
            out["checksums"] = checksums
        if component.purl:
            out["externalRefs"] = [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": component.purl.to_string(),
                }
            ]
        notes = [f"{COMPONENT_TYPE}={kind}"]
        notes += [f"{p.name}={p.value}" for p in component.properties]
        out["annotations"] = [self.annotation(n) for n in notes]
        return out


def _download_location(component: Component) -> str:
    """Where a dataset or source is published (a URL or VCS location SPDX accepts); nothing
    else in an image has one that was recorded."""
    for ref in component.external_references:
        url = str(ref.url)
        if _LOCATION.match(url):
            return url
    return NOASSERTION


def _relationships(bom: Bom, root: Component, doc: _Document) -> list[dict[str, str]]:
    image = doc.by_ref[str(root.bom_ref.value)]
    out = [_relation(DOCUMENT_ID, "DESCRIBES", image)]
    for component in bom.components:
        target = doc.by_ref[str(component.bom_ref.value)]
        match component.type.value:
            case "device-driver":
                out.append(_relation(image, "DEPENDS_ON", target))
            case "data":
                out.append(
                    _relation(image, "OTHER", target, "the dataset or source the model came from")
                )
            case _:
                out.append(_relation(image, "CONTAINS", target))
    root_ref = str(root.bom_ref.value)
    for dependency in bom.dependencies:
        dependent = str(dependency.ref.value)
        if dependent == root_ref:
            continue  # the image's own edges are CONTAINS and the above
        for need in dependency.dependencies:
            out.append(
                _relation(doc.by_ref[dependent], "DEPENDS_ON", doc.by_ref[str(need.ref.value)])
            )
    return sorted(
        out, key=lambda r: (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
    )


def _relation(element: str, kind: str, related: str, comment: str = "") -> dict[str, str]:
    out = {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}
    if comment:
        out["comment"] = comment
    return out


def spdx_document(inventory: Inventory, *, reproducible: bool) -> dict[str, Any]:
    """The SPDX 2.3 document of an Inventory, as JSON data; raises `SbomError`."""
    bom = build_bom(inventory, reproducible=True)
    root = bom.metadata.component
    if root is None:  # pragma: no cover - build_bom always sets it
        raise SbomError(f"{inventory.image.reference}: the SBOM has no image")
    created = REPRODUCIBLE_DATE if reproducible else _now()
    doc = _Document(created=created)
    packages = [doc.package(root), *(doc.package(c) for c in bom.components)]
    name = f"{root.name}:{root.version}" if root.version else root.name
    data: dict[str, Any] = {
        "spdxVersion": SPDX_VERSION,  # first: how `imagekit.image.ref` tells SPDX apart
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": name,
        "documentNamespace": "",
        "creationInfo": {"created": created, "creators": [TOOL]},
        "packages": sorted(packages, key=lambda p: str(p["SPDXID"])),
        "relationships": _relationships(bom, root, doc),
    }
    if doc.extracted:
        data["hasExtractedLicensingInfos"] = [
            {"licenseId": key, "name": text, "extractedText": text}
            for key, text in sorted(doc.extracted.items())
        ]
    if inventory.warnings:
        data["annotations"] = [doc.annotation(f"imagekit:warning={w}") for w in inventory.warnings]
    # Unique per document; a reproducible one is named after its own content.
    unique = hashlib.sha256(_dump(data).encode()).hexdigest() if reproducible else str(uuid.uuid4())
    data["documentNamespace"] = f"https://spdx.org/spdxdocs/{_slug(root.name)}-{unique}"
    return data


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@cache
def _schema() -> dict[str, Any]:
    text = (resources.files("imagekit") / "data" / "spdx-schema-2.3.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _id_problem(data: dict[str, Any]) -> str | None:
    """The first SPDX id defined twice or referenced but not defined, if any."""
    ids = [DOCUMENT_ID, *(str(p["SPDXID"]) for p in data.get("packages", []))]
    if len(set(ids)) != len(ids):
        return "an SPDX id is defined twice"
    for r in data.get("relationships", []):
        for key in ("spdxElementId", "relatedSpdxElement"):
            if r[key] not in ids:
                return f"relationship names {r[key]}, which is not defined"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpdxJsonWriter:
    """SPDX 2.3 JSON. `spec` (CycloneDX's version) does not apply: SPDX is always 2.3."""

    format: SbomFormat = SbomFormat.SPDX_JSON

    def title(self, spec: SpecVersion) -> str:
        return "SPDX 2.3 JSON"

    def serialise(self, inventory: Inventory, *, spec: SpecVersion, reproducible: bool) -> str:
        return _dump(spdx_document(inventory, reproducible=reproducible))

    def validate(
        self, text: str, *, spec: SpecVersion, subject: str, memo: Memo | None = None
    ) -> None:
        import_jsonschema()
        from jsonschema import Draft7Validator  # noqa: PLC0415

        data = json.loads(text)
        error = next(iter(Draft7Validator(_schema()).iter_errors(data)), None)
        detail = (
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            if error is not None
            else _id_problem(data)
        )
        if detail:
            raise SbomError(
                f"{subject}: the SBOM fails SPDX 2.3 ({self.format}): {detail} "
                "(nothing was written; this is an imagekit bug: report it with the image)"
            )


WRITER = SpdxJsonWriter()
