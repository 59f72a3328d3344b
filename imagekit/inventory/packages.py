"""The package view every report reads: one entry per thing in (or needed by) the image.

The view is built from an Inventory (`view_of_inventory`) or read back from any CycloneDX SBOM
(`imagekit.inventory.cyclonedx.read_cyclonedx`), and both give the same entries for the same
image: the names, versions, purls, licences and `imagekit:` properties the SBOM writer puts in
its components. Licences, vulnerabilities and diffs read these entries, so an image and the
SBOM written from it get the same answer, and no report renders a document to parse it back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imagekit.inventory.licences import DeclaredLicense, declared_by_dist, declared_by_texts
from imagekit.inventory.model import (
    CudaComponent,
    CudaSourceKind,
    DataSource,
    DebPackage,
    Inventory,
    ModelArtifact,
    OsRelease,
    PythonDist,
)

DEPENDENCY_CLASS = "imagekit:dependency-class"
PROVIDED_BY = "imagekit:provided-by"  # the package whose files this component is
SITE_PACKAGES = "imagekit:python:site-packages"
ARTIFACT_PATH = "imagekit:artifact:path"

_RUNTIME_WHEEL = re.compile(r"^nvidia-cuda-runtime(-cu\d+)?$")  # CUDA 13 dropped the suffix
_RUNTIME_NAMES = frozenset({"cudart", "cuda-runtime", "cuda-cudart"})
# A wheel or toolkit names the runtime better than a libcudart file inside it.
_RUNTIME_ORDER = (CudaSourceKind.WHEEL, CudaSourceKind.TOOLKIT, CudaSourceKind.LIBRARY)
_NO_LICENCE = DeclaredLicense(expressions=(), names=())


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageEntry:
    """One component: a package, a CUDA runtime, a model, a dataset, the OS or the driver."""

    name: str
    version: str | None
    type: str  # the CycloneDX component type: library, framework, machine-learning-model, ...
    purl: str | None = None
    bom_ref: str | None = None
    licence: DeclaredLicense = _NO_LICENCE
    properties: Mapping[str, str] = field(default_factory=dict)  # imagekit:* and others
    sha256: str | None = None  # the component's own hash (a model file's, a wheel's)
    where: str = ""  # the key in the SBOM it was read from ("components[3]"), else ""

    @property
    def purl_type(self) -> str | None:
        """`deb`, `pypi`, ... from the purl; None without one."""
        if self.purl and self.purl.startswith("pkg:"):
            return self.purl[4:].split("/", 1)[0] or None
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageView:
    """What an image holds, as the reports read it."""

    reference: str  # what the user named
    entries: tuple[PackageEntry, ...]
    sbom: Path | None = None  # the SBOM file the view was read from; None for an image


# --- purls and CUDA runtimes, as the SBOM and every report name them ---------------------------


def deb_purl(deb: DebPackage, release: OsRelease | None) -> PackageURL:
    """`pkg:deb/<os id>/NAME@VERSION?arch=ARCH&distro=<id>-<version>`, plus `upstream=SOURCE`
    or `SOURCE@VERSION` (syft's convention, which grype reads to match the source package)
    when the source's name or version differs from the binary's."""
    qualifiers = {"arch": deb.architecture}
    if release:
        qualifiers["distro"] = f"{release.id}-{release.version_id}"
    source = deb.source_name or deb.name
    other_version = bool(deb.source_version) and deb.source_version != deb.version
    if source != deb.name or other_version:  # a binNMU (5.2.15-2+b13) has its own version
        qualifiers["upstream"] = f"{source}@{deb.source_version}" if other_version else source
    namespace = release.id if release else "debian"
    return PackageURL(
        type="deb", namespace=namespace, name=deb.name, version=deb.version, qualifiers=qualifiers
    )


def pypi_purl(dist: PythonDist) -> PackageURL:
    return PackageURL(type="pypi", name=dist.name, version=dist.version)


def is_runtime(cuda: CudaComponent) -> bool:
    """A CUDA runtime: a toolkit, a libcudart, or an nvidia-cuda-runtime(-cuNN) wheel."""
    return (
        cuda.kind is CudaSourceKind.TOOLKIT
        or cuda.name in _RUNTIME_NAMES
        or bool(_RUNTIME_WHEEL.match(cuda.name))
    )


def dist_refs(dists: tuple[PythonDist, ...]) -> list[str]:
    """The bom-ref of each distribution: its purl, with `#<site-packages>` where one
    name@version is in several environments."""
    purls = [pypi_purl(d).to_string() for d in dists]
    counts = Counter(purls)
    return [
        purl if counts[purl] == 1 else f"{purl}#{d.site_packages}"
        for purl, d in zip(purls, dists, strict=True)
    ]


def provider_index(cuda: CudaComponent, dists: tuple[PythonDist, ...]) -> int | None:
    """The index in `dists` of the distribution whose files hold a CUDA component."""
    path = cuda.path
    wheel = canonicalize_name(cuda.name) if cuda.kind is CudaSourceKind.WHEEL else None
    for i, dist in enumerate(dists):
        if path == dist.metadata_path or canonicalize_name(dist.name) == wheel:
            return i
        rel = path.removeprefix(dist.site_packages.rstrip("/") + "/")
        if rel != path and any(f.path == rel for f in dist.record):
            return i
    return None


def runtimes(inventory: Inventory) -> Iterator[tuple[CudaComponent, int | None]]:
    """The CUDA runtimes the SBOM lists, each with its provider's index in `inventory.python`:
    one per providing wheel (or per path when no package provides it)."""
    seen: set[int | str] = set()
    found = [x for x in inventory.cuda if x.kind in _RUNTIME_ORDER and is_runtime(x)]
    for cuda in sorted(found, key=lambda x: (_RUNTIME_ORDER.index(x.kind), x.path)):
        provider = provider_index(cuda, inventory.python)
        key: int | str = provider if provider is not None else cuda.path
        if key not in seen:
            seen.add(key)
            yield cuda, provider


def image_cuda(inventory: Inventory) -> str | None:
    """The CUDA major.minor the plan, the labels or the runtime found in the image say."""
    planned = inventory.plan.cuda_version if inventory.plan else None
    if planned:
        return str(planned)
    label = inventory.image.labels.get("io.imagekit.cuda.version")
    if label:
        return label
    runtimes = sorted(c.cuda_version for c in inventory.cuda if is_runtime(c))
    return runtimes[-1] if runtimes else None


# --- the view of an Inventory ----------------------------------------------------------------


def view_of_inventory(inventory: Inventory) -> PackageView:
    """The entries of an image's Inventory, as its SBOM lists them."""
    release = inventory.os_release
    entries = [_deb_entry(d, release) for d in inventory.debs]
    refs = dist_refs(inventory.python)
    entries.extend(_dist_entry(d, ref) for d, ref in zip(inventory.python, refs, strict=True))
    for cuda, provider in runtimes(inventory):
        entries.append(_runtime_entry(cuda, refs[provider] if provider is not None else None))
    entries.extend(_artifact_entry(a) for a in sorted(inventory.artifacts, key=lambda a: a.path))
    entries.extend(_data_entry(d) for d in inventory.data)
    return PackageView(reference=inventory.image.reference, entries=tuple(entries))


def _deb_entry(deb: DebPackage, release: OsRelease | None) -> PackageEntry:
    purl = deb_purl(deb, release).to_string()
    return PackageEntry(
        name=deb.name,
        version=deb.version,
        type="library",
        purl=purl,
        bom_ref=purl,
        licence=declared_by_texts(deb.licenses),
    )


def _dist_entry(dist: PythonDist, bom_ref: str) -> PackageEntry:
    return PackageEntry(
        name=dist.raw_name or dist.name,
        version=dist.version,
        type="library",
        purl=pypi_purl(dist).to_string(),
        bom_ref=bom_ref,
        licence=declared_by_dist(dist),
        properties={SITE_PACKAGES: dist.site_packages},
    )


def _runtime_entry(cuda: CudaComponent, provided_by: str | None) -> PackageEntry:
    properties = {"imagekit:cuda:version": cuda.cuda_version}
    if provided_by is not None:
        properties[PROVIDED_BY] = provided_by
    return PackageEntry(
        name="cuda-runtime",
        version=cuda.version,
        type="framework",
        bom_ref=f"cuda-runtime:{cuda.path}",
        properties=properties,
    )


def _artifact_entry(artifact: ModelArtifact) -> PackageEntry:
    licence = artifact.card.get("license")
    return PackageEntry(
        name=artifact.name,
        version=None,
        type="machine-learning-model",
        bom_ref=f"model:{artifact.path}",
        licence=declared_by_texts([licence]) if licence else _NO_LICENCE,
        properties={ARTIFACT_PATH: artifact.path},
        sha256=artifact.actual_sha256,
    )


def _data_entry(source: DataSource) -> PackageEntry:
    return PackageEntry(
        name=source.name,
        version=source.version,
        type="data",
        bom_ref=f"data:{source.kind}:{source.name}@{source.version}",
        sha256=source.sha256,
    )
