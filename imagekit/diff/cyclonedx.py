"""A CycloneDX SBOM, read into the package view (`imagekit.inventory.cyclonedx`), as a diff
`Snapshot`.

Packages come from purls (`pkg:pypi/...`, `pkg:deb/...`), so SBOMs written by other tools (syft,
cyclonedx-py) diff too; imagekit's own `imagekit:` properties add the site-packages of each
Python package, the CUDA runtime, the driver floor and the direct dependencies.
"""

from __future__ import annotations

import re

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imagekit.diff.model import Artifact, Ecosystem, InputKind, Package, Snapshot
from imagekit.inventory.packages import (
    ARTIFACT_PATH,
    DEPENDENCY_CLASS,
    SITE_PACKAGES,
    PackageEntry,
    PackageView,
)
from imagekit.vulns.targets import from_view as scan_target_of_view

_RUNTIME_WHEEL = re.compile(r"^nvidia-cuda-runtime-cu\d+$")
_DIRECT = frozenset({"critical", "optional"})
_MODEL = "machine-learning-model"


def snapshot_of_view(view: PackageView, reference: str) -> Snapshot:
    """The snapshot of an SBOM's package view."""
    entries = view.entries
    packages = [p for e in entries if (p := _package(e)) is not None]
    return Snapshot(
        reference=reference,
        kind=InputKind.SBOM,
        packages=tuple(packages),
        cuda=_cuda(entries, packages),
        min_driver=next(
            (e.properties.get("imagekit:driver:min-version") for e in entries if _is_driver(e)),
            None,
        ),
        artifacts=tuple(_artifact(e) for e in entries if e.type == _MODEL),
        direct=frozenset(
            canonicalize_name(e.name)
            for e in entries
            if e.properties.get(DEPENDENCY_CLASS) in _DIRECT
        ),
        scan_target=scan_target_of_view(view),
    )


def _purl(entry: PackageEntry) -> PackageURL | None:
    if entry.purl is None:
        return None
    try:
        return PackageURL.from_string(entry.purl)
    except ValueError:
        return None  # a purl this library cannot parse is not one we compare


def _package(entry: PackageEntry) -> Package | None:
    purl = _purl(entry)
    if purl is None or purl.version is None:
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    name: str = purl.name
    if purl.type == "pypi":
        ecosystem, name = Ecosystem.PYTHON, canonicalize_name(name)
        environment = entry.properties.get(SITE_PACKAGES, "")
    elif purl.type == "deb":
        ecosystem = Ecosystem.DEB
        environment = str(qualifiers.get("arch", ""))
    else:
        return None
    licence = entry.licence
    return Package(
        ecosystem=ecosystem,
        name=name,
        environment=environment,
        version=purl.version,
        licences=tuple(sorted({*licence.expressions, *licence.names})),
        where=str(entry.purl),
    )


def _artifact(entry: PackageEntry) -> Artifact:
    return Artifact(
        name=entry.name, sha256=entry.sha256, path=entry.properties.get(ARTIFACT_PATH, "")
    )


def _is_driver(entry: PackageEntry) -> bool:
    return entry.type == "device-driver" and entry.name == "nvidia-driver"


def _cuda(entries: tuple[PackageEntry, ...], packages: list[Package]) -> str | None:
    """The newest CUDA runtime the SBOM names: imagekit's cuda-runtime, else the runtime wheel."""
    versions = [
        e.properties["imagekit:cuda:version"]
        for e in entries
        if e.name == "cuda-runtime" and "imagekit:cuda:version" in e.properties
    ]
    for package in packages:
        if package.ecosystem is Ecosystem.PYTHON and _RUNTIME_WHEEL.match(package.name):
            versions.append(".".join(package.version.split(".")[:2]))
    return max(versions, key=_version_key) if versions else None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))
