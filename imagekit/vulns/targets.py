"""What a scan looks at: the packages of an image's Inventory, or of a CycloneDX JSON SBOM.

Debian advisories are recorded against *source* packages, so binary packages are grouped by
their source name and version (libssl3 and openssl under openssl). In an SBOM the source comes
from the purl's `upstream` qualifier (`upstream=openssl` or `upstream=glibc@2.36-9+deb12u4`, as
syft and imagekit write it), else the binary name; the release from `distro` (`debian-12`,
`bookworm`). PyPI names are canonicalised (PEP 503).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imagekit.errors import Finding, Location, Severity
from imagekit.image.ref import RefKind, image_ref
from imagekit.inventory import read_inventory
from imagekit.inventory.cyclonedx import read_cyclonedx
from imagekit.inventory.model import DebPackage, Inventory, OsRelease
from imagekit.inventory.packages import PackageView, deb_purl, pypi_purl
from imagekit.inventory.spdx import read_spdx
from imagekit.vulns.interface import DEBIAN, PYPI, Component, Package

RULE_TARGET = "scan-target"
DEBIAN_RELEASES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13"}
_SCANNED = (("pypi", None), ("deb", "debian"))
_DISTRO = re.compile(r"^debian-(?P<major>\d+)(?:\.\d+)*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The packages to scan; `sbom` is the input SBOM's path when the target was one."""

    reference: str
    packages: tuple[Package, ...]
    warnings: tuple[Finding, ...] = ()
    sbom: Path | None = None


def _warning(file: str, message: str, fix: str, key: str | None = None) -> Finding:
    return Finding(
        location=Location(file=Path(file), key=key),
        rule=RULE_TARGET,
        message=message,
        fix=fix,
        severity=Severity.WARNING,
    )


def debian_ecosystem(release_id: str, version_id: str, codename: str) -> str | None:
    """OSV's ecosystem for a Debian release ("Debian:12"), or None if it is not Debian or the
    release cannot be told."""
    if release_id != "debian":
        return None
    major = version_id.partition(".")[0] if version_id else DEBIAN_RELEASES.get(codename, "")
    return f"{DEBIAN}:{major}" if major else None


def _group(items: Iterable[tuple[str, str, str, Component]]) -> tuple[Package, ...]:
    """Packages from (ecosystem, name, version, component), one per (ecosystem, name, version)."""
    grouped: dict[tuple[str, str, str], list[Component]] = {}
    for ecosystem, name, version, component in items:
        grouped.setdefault((ecosystem, name, version), []).append(component)
    return tuple(
        Package(
            ecosystem=eco,
            name=name,
            version=version,
            components=tuple(sorted(set(parts), key=lambda c: (c.name, c.purl or ""))),
        )
        for (eco, name, version), parts in sorted(grouped.items())
    )


# --- an Inventory ---------------------------------------------------------------------------


def _deb_items(
    debs: Iterable[DebPackage], release: OsRelease, ecosystem: str
) -> Iterator[tuple[str, str, str, Component]]:
    for deb in debs:
        purl = deb_purl(deb, release).to_string()
        component = Component(name=deb.name, version=deb.version, purl=purl, bom_ref=purl)
        yield ecosystem, deb.source_name or deb.name, deb.source_version or deb.version, component


def from_inventory(inventory: Inventory) -> Target:
    """The packages of an image: its Debian source packages and Python distributions."""
    reference = inventory.image.reference
    warnings = [
        _warning(reference, text, "see `imagekit inventory` for what was read")
        for text in inventory.warnings
    ]
    items: list[tuple[str, str, str, Component]] = []
    release = inventory.os_release
    ecosystem = (
        debian_ecosystem(release.id, release.version_id, release.codename) if release else None
    )
    if inventory.debs and (release is None or ecosystem is None):
        name = release.pretty_name if release else "an unknown OS (no /etc/os-release)"
        warnings.append(
            _warning(
                reference,
                f"{len(inventory.debs)} .deb packages of {name} are not scanned: only Debian "
                "releases have OSV advisories imagekit reads",
                "scan the image with a tool for its distribution",
            )
        )
    elif release is not None and ecosystem is not None:
        items.extend(_deb_items(inventory.debs, release, ecosystem))
    for dist in inventory.python:
        purl = pypi_purl(dist).to_string()
        component = Component(name=dist.name, version=dist.version, purl=purl, bom_ref=purl)
        items.append((PYPI, canonicalize_name(dist.name), dist.version, component))
    return Target(reference=reference, packages=_group(items), warnings=tuple(warnings))


# --- a CycloneDX JSON SBOM ------------------------------------------------------------------


def _deb_source(purl: PackageURL) -> tuple[str, str]:
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    name, _, version = str(qualifiers.get("upstream") or "").partition("@")
    return name or str(purl.name), version or str(purl.version)


def _purl_item(
    purl: PackageURL, component: Component, where: str, warn: list[Finding]
) -> tuple[str, str, str, Component] | None:
    if purl.type == "pypi":
        return PYPI, canonicalize_name(purl.name), str(purl.version), component
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    distro = str(qualifiers.get("distro") or "")
    match = _DISTRO.match(distro)
    major = match["major"] if match else DEBIAN_RELEASES.get(distro, "")
    if not major:
        warn.append(
            _warning(
                where,
                f"{component.purl}: no Debian release in the purl (distro={distro or 'missing'})"
                "; not scanned",
                "write the release into the purl, e.g. distro=debian-12",
            )
        )
        return None
    name, version = _deb_source(purl)
    return f"{DEBIAN}:{major}", name, version, component


def from_cyclonedx(path: Path) -> Target:
    """The packages of a CycloneDX JSON SBOM (see `from_view`); raises `InputError`."""
    return from_view(read_cyclonedx(path))


def from_view(view: PackageView) -> Target:
    """The PyPI and Debian packages of a package view (components with a purl); the others
    are counted in one warning per purl type."""
    warnings: list[Finding] = []
    skipped: Counter[str] = Counter()
    items: list[tuple[str, str, str, Component]] = []
    for entry in view.entries:
        text = entry.purl
        if not text:
            continue
        try:
            purl = PackageURL.from_string(text)
        except ValueError as e:
            warnings.append(_warning(view.reference, f"bad purl {text!r}: {e}", "correct the purl"))
            continue
        if not purl.version or (purl.type, purl.namespace) not in _SCANNED:
            skipped[f"{purl.type}/{purl.namespace}" if purl.namespace else str(purl.type)] += 1
            continue
        component = Component(
            name=entry.name or str(purl.name),
            version=str(purl.version),
            purl=text,
            bom_ref=entry.bom_ref,
        )
        item = _purl_item(purl, component, view.reference, warnings)
        if item:
            items.append(item)
    for kind, count in sorted(skipped.items()):
        warnings.append(
            _warning(
                view.reference,
                f"{count} component(s) of type {kind} are not scanned (imagekit matches PyPI and "
                "Debian packages, with a version)",
                "scan those with a tool for their ecosystem",
            )
        )
    return Target(
        reference=view.reference, packages=_group(items), warnings=tuple(warnings), sbom=view.sbom
    )


# --- the target named on the command line ---------------------------------------------------


def load_target(reference: str) -> tuple[Target, Inventory | None]:
    """An SBOM is scanned as one, an image through its Inventory (`imagekit.image.ref` tells
    which); raises `InputError` for a lockfile or a path that is missing."""
    ref = image_ref(reference)
    if ref.kind is RefKind.SBOM:
        return from_cyclonedx(ref.path), None
    if ref.kind is RefKind.SPDX:
        return from_view(read_spdx(ref.path)), None
    if not ref.is_image:
        raise ref.refused("an image or a CycloneDX JSON SBOM")
    inventory = read_inventory(reference)
    return from_inventory(inventory), inventory
