"""One CycloneDX component per thing an Inventory says is in (or needed by) the image.

bom-refs are stable and readable: a package's purl, `model:<path>`, `data:<kind>:<name>@<version>`,
`cuda-runtime:<path>`, `nvidia-driver`. Properties use the `imagekit:` namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.component import Component, ComponentScope, ComponentType
from packageurl import PackageURL

from imagekit.inventory.licences import declared_by_dist, declared_by_texts
from imagekit.inventory.model import (
    CudaComponent,
    DataSource,
    DebPackage,
    ImageInfo,
    ModelArtifact,
    OsRelease,
    PythonDist,
)
from imagekit.inventory.packages import DEPENDENCY_CLASS, PROVIDED_BY, deb_purl, pypi_purl
from imagekit.sbom.licensing import to_cyclonedx

DRIVER_REF = "nvidia-driver"
CRITICAL = "critical"
OPTIONAL = "optional"

_TRANSPORT = re.compile(r"^(docker-daemon|docker-archive|oci-archive|oci|docker):(//)?")


def prop(name: str, value: str) -> Property:
    return Property(name=f"imagekit:{name}", value=value)


def sha256(hexdigest: str) -> HashType:
    return HashType(alg=HashAlgorithm.SHA_256, content=hexdigest)


# --- the image -------------------------------------------------------------------------------


_FILE_KINDS = frozenset({"docker-archive", "oci-layout", "rootfs"})


def split_reference(reference: str, source_kind: str = "") -> tuple[str, str | None]:
    """The repository name and tag of an image reference, or a file's name and no tag."""
    ref = _TRANSPORT.sub("", reference)
    looks_like_path = ref.startswith(("/", "./", "../")) or ref.endswith((".tar", ".tar.gz"))
    if source_kind in _FILE_KINDS or (not source_kind and looks_like_path):
        name = PurePosixPath(ref.rstrip("/")).name
        return re.sub(r"\.(tar|tar\.gz|tgz)$", "", name) or ref, None
    ref = ref.split("@", 1)[0]
    repo, sep, tag = ref.rpartition(":")
    if sep and "/" not in tag:
        return repo, tag
    return ref, None


def _reference(info: ImageInfo) -> str:
    """What the user named, without a host path: a file or folder by its own name."""
    if info.source_kind in _FILE_KINDS:
        return PurePosixPath(info.reference.rstrip("/")).name or "/"
    return info.reference


def image_component(info: ImageInfo) -> Component:
    """The image as the BOM's subject: its own name and tag (`ImageInfo.name`; from the
    reference for an inventory that has none), its manifest digest as hash and purl, and which
    digest it is (`image:digest-kind`). No host path is written: a file or folder is named by
    its own name."""
    name, tag = (
        (info.name, info.tag) if info.name else split_reference(info.reference, info.source_kind)
    )
    reference = _reference(info)
    digest = info.digest
    purl = None
    hashes = []
    # A pkg:oci purl and the component's hash name the manifest; Docker's image id (the config
    # digest of an archive without a manifest) is only the image:config-digest property.
    if digest and digest.startswith("sha256:") and info.digest_kind != "image-id":
        qualifiers = {"arch": info.architecture} if info.architecture else {}
        if tag:
            qualifiers["tag"] = tag
        host = name.split("/", 1)[0]
        if "/" in name and ("." in host or ":" in host or host == "localhost"):
            qualifiers["repository_url"] = name
        last = name.rsplit("/", 1)[-1].lower()
        purl = PackageURL(type="oci", name=last, version=digest, qualifiers=qualifiers)
        hashes.append(sha256(digest.removeprefix("sha256:")))
    properties = [prop("image:reference", reference)]
    for key, value in (
        ("image:source-kind", info.source_kind),
        ("image:digest-kind", info.digest_kind),
        ("image:config-digest", info.config_digest),
        ("image:os", info.os),
        ("image:architecture", info.architecture),
        ("image:base-name", info.base_name),
        ("image:base-digest", info.base_digest),
    ):
        if value:
            properties.append(prop(key, value))
    return Component(
        type=ComponentType.CONTAINER,
        name=name,
        version=tag or info.labels.get("org.opencontainers.image.version") or digest,
        description=info.labels.get("org.opencontainers.image.description"),
        bom_ref=purl.to_string() if purl else f"image:{reference}",
        purl=purl,
        hashes=hashes,
        properties=properties,
    )


def os_component(release: OsRelease) -> Component:
    return Component(
        type=ComponentType.OPERATING_SYSTEM,
        name=release.id,
        version=release.version_id,
        description=release.pretty_name,
        bom_ref=f"os:{release.id}@{release.version_id}",
        properties=[prop("os:codename", release.codename)] if release.codename else [],
    )


# --- packages --------------------------------------------------------------------------------


def deb_component(deb: DebPackage, release: OsRelease | None) -> Component:
    purl = deb_purl(deb, release)
    properties = [
        prop("deb:source", deb.source_name),
        prop("deb:source-version", deb.source_version),
    ]
    if deb.copyright_file:
        properties.append(prop("deb:copyright-file", deb.copyright_file))
    if deb.license_confidence is not None:
        properties.append(prop("deb:licence-confidence", f"{deb.license_confidence:.2f}"))
    return Component(
        type=ComponentType.LIBRARY,
        name=deb.name,
        version=deb.version,
        bom_ref=purl.to_string(),
        purl=purl,
        licenses=to_cyclonedx(declared_by_texts(deb.licenses)),
        properties=properties,
    )


def dist_component(
    dist: PythonDist,
    *,
    bom_ref: str,
    wheel_sha256: str | None,
    dependency_class: str | None,
    cuda: CudaComponent | None,
) -> Component:
    """A Python distribution; `wheel_sha256` only when the plan names exactly one wheel."""
    declared = declared_by_dist(dist)
    properties = [prop("python:site-packages", dist.site_packages)]
    if dependency_class:
        properties.append(Property(name=DEPENDENCY_CLASS, value=dependency_class))
    if cuda:
        properties.append(prop("cuda:version", cuda.cuda_version))
    scope = {CRITICAL: ComponentScope.REQUIRED, OPTIONAL: ComponentScope.OPTIONAL}
    return Component(
        type=ComponentType.LIBRARY,
        name=dist.raw_name or dist.name,
        version=dist.version,
        bom_ref=bom_ref,
        purl=pypi_purl(dist),
        scope=scope.get(dependency_class or ""),
        hashes=[sha256(wheel_sha256)] if wheel_sha256 else [],
        licenses=to_cyclonedx(declared),
        copyright=declared.copyright,
        properties=properties,
    )


# --- models and data -------------------------------------------------------------------------


def artifact_component(artifact: ModelArtifact) -> Component:
    """A model file, hashed from the image's own bytes; its card as `imagekit:card:*`
    properties (cyclonedx-python-lib has no `modelCard` yet)."""
    card = dict(sorted(artifact.card.items()))
    properties = [
        prop("artifact:path", artifact.path),
        prop("artifact:verified", "true" if artifact.verified else "false"),
    ]
    if artifact.actual_sha256 is None:
        properties.append(prop("artifact:status", "missing from the image"))
    if not artifact.verified:
        properties.append(prop("artifact:recorded-sha256", artifact.recorded_sha256))
    if artifact.size is not None:
        properties.append(prop("artifact:size", str(artifact.size)))
    properties.extend(prop(f"card:{key}", value) for key, value in card.items())
    licence = card.get("license")
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=artifact.name,
        description=card.get("description"),
        bom_ref=f"model:{artifact.path}",
        hashes=[sha256(artifact.actual_sha256)] if artifact.actual_sha256 else [],
        licenses=to_cyclonedx(declared_by_texts([licence])) if licence else [],
        properties=properties,
    )


def data_component(source: DataSource) -> Component:
    """A dataset or upstream source the model came from: not a file in the image."""
    ref_type = (
        ExternalReferenceType.VCS if source.kind == "source" else ExternalReferenceType.DISTRIBUTION
    )
    properties = [prop("data:kind", source.kind)]
    if source.revision:
        properties.append(prop("data:revision", source.revision))
    if source.schema_hash:
        properties.append(prop("data:schema-hash", source.schema_hash))
    return Component(
        type=ComponentType.DATA,
        name=source.name,
        version=source.version,
        bom_ref=f"data:{source.kind}:{source.name}@{source.version}",
        hashes=[sha256(source.sha256)] if source.sha256 else [],
        external_references=[ExternalReference(type=ref_type, url=XsUri(source.uri))],
        properties=properties,
    )


# --- CUDA and the driver ---------------------------------------------------------------------


def cuda_runtime_component(cuda: CudaComponent, provided_by: str | None) -> Component:
    properties = [
        prop("cuda:version", cuda.cuda_version),
        prop("cuda:source-kind", cuda.kind.value),
        prop("cuda:path", cuda.path),
    ]
    if provided_by:
        properties.append(Property(name=PROVIDED_BY, value=provided_by))
    return Component(
        type=ComponentType.FRAMEWORK,
        name="cuda-runtime",
        version=cuda.version,
        description=f"NVIDIA CUDA runtime {cuda.cuda_version} ({cuda.name})",
        bom_ref=f"cuda-runtime:{cuda.path}",
        scope=ComponentScope.REQUIRED,
        properties=properties,
    )


def driver_component(min_driver: str, cuda_versions: Iterable[str]) -> Component:
    """The host's NVIDIA driver the image needs. It is not in the image and CycloneDX 1.6 has
    no version range for a component, so the floor is a property and the description says it."""
    cudas = ", ".join(sorted(set(cuda_versions)))
    needs = f" for CUDA {cudas}" if cudas else ""
    return Component(
        type=ComponentType.DEVICE_DRIVER,
        name="nvidia-driver",
        description=f"NVIDIA driver on the host (not in the image): >={min_driver}{needs}",
        bom_ref=DRIVER_REF,
        scope=ComponentScope.REQUIRED,
        properties=[prop("driver:min-version", min_driver), prop("driver:location", "host")],
    )
