"""The Inventory: what an image actually contains, read from the image's own files.

`read_inventory("name:tag" | "image.tar" | "oci-dir/" | "rootfs-dir/")` reads an image once, as
streams (see `sources` and `layers`), and the readers turn its files into one `Inventory`:
Debian packages, Python distributions per environment, CUDA, the model artifacts re-hashed
against the plan the image carries, and the data that plan recorded.

The reports read it through `packages.view_of_inventory`, the package view that
`cyclonedx.read_cyclonedx` also reads any CycloneDX SBOM into; `licences` and `debversion` are
the declared-licence and Debian-version rules they share.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from imagekit.inventory import artifacts, cuda, dpkg, elf, osrelease, python
from imagekit.inventory.artifacts import read_artifacts, read_data, read_plan
from imagekit.inventory.cuda import read_cuda
from imagekit.inventory.cyclonedx import read_cyclonedx
from imagekit.inventory.dpkg import read_debs
from imagekit.inventory.elf import read_architecture
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import DigestKind, ImageSource, SourceImage, SourceKind
from imagekit.inventory.layers import Kept, View, walk_image
from imagekit.inventory.model import (
    CudaComponent,
    CudaSourceKind,
    DataSource,
    DebPackage,
    FileHash,
    ImageInfo,
    Inventory,
    ModelArtifact,
    OsRelease,
    PythonDist,
)
from imagekit.inventory.osrelease import read_os_release
from imagekit.inventory.packages import PackageEntry, PackageView, view_of_inventory
from imagekit.inventory.python import read_python
from imagekit.inventory.scancache import ScanCache
from imagekit.inventory.sources import RootfsSource, make_source, open_source
from imagekit.limits import shown

__all__ = [
    "CudaComponent",
    "CudaSourceKind",
    "DataSource",
    "DebPackage",
    "DigestKind",
    "FileHash",
    "ImageInfo",
    "ImageSource",
    "Inventory",
    "InventoryError",
    "Kept",
    "ModelArtifact",
    "OsRelease",
    "PackageEntry",
    "PackageView",
    "PythonDist",
    "SourceKind",
    "inventory_of_view",
    "make_source",
    "open_source",
    "read_cyclonedx",
    "read_inventory",
    "read_inventory_from",
    "view_of_inventory",
    "wanted",
]


_WANTED = (dpkg.wanted, python.wanted, cuda.wanted, osrelease.wanted, artifacts.wanted, elf.wanted)
TITLE = "org.opencontainers.image.title"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"  # Docker 25+'s index.json: docker.io/library/x:1


def wanted(path: str) -> bool | Kept:
    """Whether (and how much of it) the readers parse the file at `path`, so the layer walk
    keeps its bytes."""
    for reader in _WANTED:
        if rule := reader(path):
            return rule
    return False


def _split(reference: str) -> tuple[str, str | None]:
    """A reference's repository (in Docker's short form: no docker.io/library/) and tag."""
    ref = reference.split("@", 1)[0]
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        repo, tag = ref, ""
    for prefix in ("docker.io/library/", "docker.io/"):
        repo = repo.removeprefix(prefix)
    return repo, tag or None


def _identity(source: ImageSource, config: SourceImage, view: View) -> tuple[str, str | None, str]:
    """The image's name, tag and architecture, the same whatever form it was read from.

    The name is the image's own title (`org.opencontainers.image.title`, a label or a manifest
    annotation), else the repository it is tagged as (a docker-archive's RepoTags, the index's
    `org.opencontainers.image.ref.name` when it is a whole reference, containerd's image name,
    the daemon reference), else the file or folder's own name (never its host path). The tag
    is from those references, or a ref name that is a tag alone. The architecture is the
    config's, else that of the image's shell binary (a root file system has no config), else
    (see `read_inventory_from`) the one most of its Debian packages are built for.
    """
    notes = config.annotations
    title = config.labels.get(TITLE) or notes.get(TITLE)
    ref_name = notes.get(REF_NAME, "")
    full = ref_name if (":" in ref_name or "/" in ref_name) else ""
    names = [*sorted(config.names), full, notes.get(CONTAINERD_NAME, "")]
    if source.kind is SourceKind.DAEMON and not source.reference.startswith("sha256:"):
        names.insert(0, source.reference)
    reference = next((n for n in names if n), "")
    repo, tag = _split(reference) if reference else ("", None)
    if tag is None and ref_name and not full:
        tag = ref_name  # an OCI layout's ref name is usually the tag alone
    fallback = PurePosixPath(source.reference.rstrip("/")).name
    fallback = re.sub(r"\.(tar|tar\.gz|tgz)$", "", fallback) or "root"
    architecture = config.architecture
    if architecture == "unknown":
        architecture = read_architecture(view) or architecture
    return title or repo or fallback, tag, architecture


def _image_info(
    source: ImageSource, config: SourceImage, layers: tuple[str, ...], view: View
) -> ImageInfo:
    labels = config.labels
    digest, kind = config.identity
    name, tag, architecture = _identity(source, config, view)
    return ImageInfo(
        name=name,
        tag=tag,
        reference=source.reference,
        source_kind=source.kind.value,
        digest=digest,
        digest_kind=kind.value if kind is not None else "",
        config_digest=config.digest,
        architecture=architecture,
        os=config.os if config.config or source.kind is not SourceKind.ROOTFS else "linux",
        labels=labels,
        layers=layers,
        base_name=labels.get("org.opencontainers.image.base.name"),
        base_digest=labels.get("org.opencontainers.image.base.digest"),
    )


def inventory_of_view(image: ImageInfo, view: View) -> Inventory:
    """The Inventory of an image's final view (the readers' part, no I/O)."""
    plan = read_plan(view)
    dists = read_python(view)
    os_release = read_os_release(view)
    debs = read_debs(view)
    cuda_components = read_cuda(view, dists)
    model_files = read_artifacts(view, plan)
    data = read_data(plan)
    return Inventory(
        image=image,
        os_release=os_release,
        debs=debs,
        python=dists,
        cuda=cuda_components,
        artifacts=model_files,
        data=data,
        plan=plan,
        warnings=view.warnings,  # read last: the readers above add to them
    )


def read_inventory_from(source: ImageSource, *, scans: ScanCache | None = None) -> Inventory:
    """The Inventory of the image `source` reads (its layers known to `scans` taken from it,
    `scancache`); raises `InventoryError` naming the image."""
    config, view, layers = walk_image(source, wanted, scans=scans)
    for warning in config.warnings:  # what the source left out, before what the readers find
        view.warn(warning)
    inventory = inventory_of_view(_image_info(source, config, layers, view), view)
    if inventory.image.architecture != "unknown":
        return inventory
    # No config and no shell (a distroless root): the architecture most of its packages have.
    found = Counter(d.architecture for d in inventory.debs if d.architecture not in ("all", ""))
    if not found:
        return inventory
    architecture = min(found, key=lambda a: (-found[a], a))
    return replace(inventory, image=replace(inventory.image, architecture=architecture))


def read_inventory(
    reference: str,
    *,
    platform: str | None = None,
    exclude: Sequence[str] = (),
    default_excludes: bool = True,
    scans: ScanCache | None = None,
) -> Inventory:
    """The Inventory of an image named by a daemon reference, an archive, an OCI layout or a
    root file system directory (told apart by `imagekit.image.ref`).

    For a root file system, `exclude` names paths or globs inside it not to read, beside
    /proc, /sys, /dev and /run unless `default_excludes` is False (`_rootfs.excluded`).
    Raises `InventoryError`, also when `exclude` is given for an image that is not a root
    file system (its layers hold every path, and skipping some would misreport them).
    `scans` is for an image this process has just written (a build's read-back): its OCI
    blobs known there are taken unread, unchecked against their digests."""
    source = open_source(reference, platform=platform)
    if isinstance(source, RootfsSource):
        source = replace(source, exclude=tuple(exclude), default_excludes=default_excludes)
    elif exclude:
        raise InventoryError(
            f"{shown(reference)}: excludes apply to a root file system directory only, and this "
            f"is a {source.kind.value}: leave them out"
        )
    return read_inventory_from(source, scans=scans)
