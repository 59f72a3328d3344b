"""Read what `imagekit diff` compares into `Snapshot`s: an image (through its Inventory), a
CycloneDX JSON SBOM, an Inventory JSON, or a lockfile.

What a reference names is told by `imagekit.image.ref`, the rule every command shares.
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from imagekit.cuda import cuda_of_packages
from imagekit.diff.cyclonedx import snapshot_of_view
from imagekit.diff.model import Artifact, DiffInputError, Ecosystem, InputKind, Package, Snapshot
from imagekit.image.ref import RefKind, image_ref
from imagekit.inventory import Inventory, read_inventory
from imagekit.inventory.cyclonedx import load_document, view_of_cyclonedx
from imagekit.inventory.licences import DeclaredLicense, declared_by_dist
from imagekit.inventory.packages import image_cuda
from imagekit.inventory.spdx import read_spdx
from imagekit.project.lockfile import Lock, read_lock
from imagekit.vulns.interface import PYPI, Component
from imagekit.vulns.interface import Package as VulnPackage
from imagekit.vulns.targets import Target as ScanTarget
from imagekit.vulns.targets import from_inventory as scan_target_of_inventory


def load_snapshot(reference: str) -> Snapshot:
    """The snapshot of an image reference, SBOM, Inventory JSON or lockfile.

    Raises `InputError` (a file that cannot be read as what it looks like) or
    `InventoryError` (an image that cannot be read).
    """
    ref = image_ref(reference)
    if ref.kind is RefKind.SBOM:
        return _from_json(ref.path, reference)
    if ref.kind is RefKind.SPDX:
        return snapshot_of_view(read_spdx(ref.path), reference)
    if ref.kind is RefKind.LOCK:
        return from_lock(read_lock(ref.path), reference)
    return from_inventory(read_inventory(reference), reference)


def _from_json(path: Path, reference: str) -> Snapshot:
    data = load_document(path)
    if "bomFormat" not in data and "image" in data and "python" in data:
        return from_inventory(Inventory.from_dict(data), reference)
    if "bomFormat" not in data:
        raise DiffInputError(
            path,
            "neither a CycloneDX SBOM (no bomFormat) nor an imagekit Inventory",
            "pass a CycloneDX JSON SBOM, an Inventory JSON, a lockfile or an image",
        )
    return snapshot_of_view(view_of_cyclonedx(data, path), reference)


# --- Inventory ---------------------------------------------------------------------------------


def from_inventory(inventory: Inventory, reference: str) -> Snapshot:
    """The snapshot of an image's Inventory."""
    python = [
        Package(
            ecosystem=Ecosystem.PYTHON,
            name=canonicalize_name(d.name),
            environment=d.site_packages,
            version=d.version,
            licences=_dist_licences(d.license_expression, declared_by_dist(d)),
            where=d.metadata_path,
        )
        for d in inventory.python
    ]
    debs = [
        Package(
            ecosystem=Ecosystem.DEB,
            name=d.name,
            environment=d.architecture,
            version=d.version,
            licences=tuple(sorted(set(d.licenses))),
            where="var/lib/dpkg/status",
        )
        for d in inventory.debs
    ]
    plan = inventory.plan
    declared = (*plan.critical, *plan.optional) if plan else ()
    return Snapshot(
        reference=reference,
        kind=InputKind.IMAGE,
        packages=(*python, *debs),
        cuda=image_cuda(inventory),
        min_driver=inventory.min_driver,
        artifacts=tuple(
            Artifact(name=a.name, sha256=a.actual_sha256, path=a.path) for a in inventory.artifacts
        ),
        direct=frozenset(canonicalize_name(str(n)) for n in declared),
        scan_target=scan_target_of_inventory(inventory),
    )


def _dist_licences(expression: str | None, declared: DeclaredLicense) -> tuple[str, ...]:
    found = tuple(declared.expressions) or tuple(declared.names)
    return found or ((expression,) if expression else ())


# --- lockfiles -------------------------------------------------------------------------------


def from_lock(lock: Lock, reference: str) -> Snapshot:
    """The snapshot of a lockfile: every package it lists, keyed by its marker."""
    packages = tuple(
        Package(
            ecosystem=Ecosystem.PYTHON,
            name=p.name,
            environment=str(p.marker) if p.marker else "",
            version=str(p.version) if p.version is not None else p.specifier,
            where=str(p.location),
        )
        for p in lock.packages
    )
    cuda = cuda_of_packages(lock.packages)
    return Snapshot(
        reference=reference,
        kind=InputKind.LOCK,
        packages=packages,
        cuda=cuda.version if cuda else None,
        min_driver=cuda.min_driver if cuda else None,
        direct=frozenset(d.name for d in lock.root_dependencies or ()),
        scan_target=_lock_scan_target(lock, reference),
    )


def _lock_scan_target(lock: Lock, reference: str) -> ScanTarget:
    """The PyPI packages a lock pins, as a vulnerability scan looks at them."""
    pins = sorted({(p.name, str(p.version)) for p in lock.packages if p.version is not None})
    packages = []
    for name, version in pins:
        purl = f"pkg:pypi/{name}@{version}"
        component = Component(name=name, version=version, purl=purl, bom_ref=purl)
        packages.append(
            VulnPackage(ecosystem=PYPI, name=name, version=version, components=(component,))
        )
    return ScanTarget(reference=reference, packages=tuple(packages))
