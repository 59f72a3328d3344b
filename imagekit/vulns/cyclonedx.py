"""Scan findings as CycloneDX `vulnerabilities`, added to a CycloneDX document (the input SBOM,
or the SBOM `imagekit.sbom` writes of the scanned image: the caller brings it, so this consumer
imports no other).

Each finding is one entry: its id (the CVE when there is one) with the other ids as
`references`, a rating (CVSS v3 with its vector, or the database's word), the fixed versions as a
`recommendation`, and `affects` pointing at the bom-refs of the installed components. An ignored
finding carries a VEX `analysis` (`not_affected` or `false_positive`, the justification, the
reason and the end date). `render` validates the result against the CycloneDX schema, so
nothing invalid reaches a file.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any

from cyclonedx.schema import OutputFormat, SchemaVersion

from imagekit.vulns.interface import Component, VulnError
from imagekit.vulns.scan import ScanReport, VulnFinding
from imagekit.vulns.severity import Level

if TYPE_CHECKING:
    from cyclonedx.validation.json import JsonValidator

OSV_URL = "https://osv.dev/vulnerability/"
# A finding for a local version (2.5.1+cu124) matched on its public one says so in this property.
MATCHED_ON_PROPERTY = "imagekit:vulnerability:matched-on"
_SCHEMAS = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}
_METHODS = {"3.0": "CVSSv3", "3.1": "CVSSv31"}


def _osv_source(vuln_id: str) -> dict[str, str]:
    return {"name": "OSV", "url": OSV_URL + vuln_id}


def _record_id(finding: VulnFinding) -> str:
    """The id of the finding's first record (a record, unlike an alias, exists in OSV)."""
    return finding.records[0].id if finding.records else finding.id


def _rating(finding: VulnFinding) -> list[dict[str, Any]]:
    rating = finding.rating
    if rating.level is Level.UNKNOWN:
        return []
    source = _osv_source(_record_id(finding))
    out: dict[str, Any] = {"source": source, "severity": rating.level.value}
    if rating.score is not None and rating.vector:
        version = rating.vector.split("/")[0].removeprefix("CVSS:")
        out |= {"score": rating.score, "method": _METHODS.get(version, "other")}
        out["vector"] = rating.vector
    return [out]


def _analysis(finding: VulnFinding) -> dict[str, Any] | None:
    rule = finding.ignored_by
    if rule is None:
        return None
    out: dict[str, Any] = {"state": rule.state.value}
    if rule.justification:
        out["justification"] = rule.justification.value
    out["detail"] = f"{rule.reason} (accepted until {rule.expires.isoformat()}, {rule.location})"
    return out


class _Refs:
    """The bom-refs of a document's components, by bom-ref and by purl."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.refs: set[str] = set()
        self.by_purl: dict[str, list[str]] = {}
        for component in _walk(doc.get("components")):
            ref, purl = component.get("bom-ref"), component.get("purl")
            if not isinstance(ref, str) and isinstance(purl, str) and purl not in self.refs:
                # A component without a bom-ref cannot be pointed at: give it its purl.
                component["bom-ref"] = ref = purl
            if isinstance(ref, str):
                self.refs.add(ref)
                if isinstance(purl, str):
                    self.by_purl.setdefault(purl, []).append(ref)

    def of(self, component: Component) -> list[str]:
        if component.bom_ref and component.bom_ref in self.refs:
            return [component.bom_ref]
        if component.purl and component.purl in self.by_purl:
            return sorted(self.by_purl[component.purl])
        return [component.bom_ref or component.purl or component.name]


def _walk(items: object) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            out.append(item)
            out.extend(_walk(item.get("components")))
    return out


def vulnerability(finding: VulnFinding, refs: _Refs) -> dict[str, Any]:
    """One CycloneDX vulnerability entry for a finding."""
    package = finding.package
    entry: dict[str, Any] = {
        "bom-ref": f"vuln:{finding.id}:{package.ecosystem}/{package.name}@{package.version}",
        "id": finding.id,
        "source": _osv_source(_record_id(finding)),
    }
    if finding.aliases:
        entry["references"] = [{"id": a, "source": _osv_source(a)} for a in finding.aliases]
    ratings = _rating(finding)
    if ratings:
        entry["ratings"] = ratings
    if finding.summary:
        entry["description"] = finding.summary
    if finding.fixed:
        entry["recommendation"] = f"Upgrade {package.name} to {' or '.join(finding.fixed)}"
    analysis = _analysis(finding)
    if analysis:
        entry["analysis"] = analysis
    entry["affects"] = [
        {"ref": ref, "versions": [{"version": c.version, "status": "affected"}]}
        for c in package.components
        for ref in refs.of(c)
    ]
    if finding.matched_on:  # a local version (2.5.1+cu124) matched on its public one
        entry["properties"] = [{"name": MATCHED_ON_PROPERTY, "value": finding.matched_on}]
    return entry


def with_vulnerabilities(doc: dict[str, Any], report: ScanReport) -> dict[str, Any]:
    """A copy of a CycloneDX document whose `vulnerabilities` are the report's findings."""
    out = copy.deepcopy(doc)
    refs = _Refs(out)
    out["vulnerabilities"] = [vulnerability(f, refs) for f in report.findings]
    return out


@functools.cache
def _validator(schema: SchemaVersion) -> JsonValidator:
    """One validator per schema version: loading a CycloneDX schema takes seconds, and its
    library (jsonschema, rfc3987_syntax) more, so neither is imported before an SBOM is."""
    from cyclonedx.validation import make_schemabased_validator  # noqa: PLC0415

    from imagekit.sbom._jsonschema import import_jsonschema  # noqa: PLC0415

    import_jsonschema()
    return make_schemabased_validator(OutputFormat.JSON, schema)


def render(doc: dict[str, Any], report: ScanReport, subject: str) -> str:
    """The document with the findings as validated JSON text; raises `VulnError`."""
    spec = str(doc.get("specVersion") or "")
    schema = _SCHEMAS.get(spec)
    if schema is None:
        raise VulnError(
            f"{subject}: CycloneDX {spec or '(no specVersion)'} cannot carry vulnerabilities "
            "with VEX analysis here (give a CycloneDX 1.4, 1.5 or 1.6 JSON SBOM)"
        )
    text = json.dumps(with_vulnerabilities(doc, report), indent=2, ensure_ascii=False) + "\n"
    validator = _validator(schema)
    error = validator.validate_str(text)
    if error is not None:
        detail = getattr(error.data, "message", None) or str(error.data)
        before = validator.validate_str(json.dumps(doc))
        where = "the input SBOM itself" if before is not None else "the SBOM with vulnerabilities"
        raise VulnError(
            f"{subject}: {where} fails the CycloneDX {spec} schema: {detail} (nothing was written)"
        )
    return text
