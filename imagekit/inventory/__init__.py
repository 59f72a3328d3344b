"""The Inventory: what an image actually contains, read from the image's own files.

`read_inventory("name:tag" | "image.tar" | "oci-dir/" | "rootfs-dir/")` reads an image once, as
streams (see `sources` and `layers`), and the readers turn its files into one `Inventory`:
Debian packages, Python distributions per environment, CUDA, the model artifacts re-hashed
against the plan the image carries, and the data that plan recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from imagekit.inventory import artifacts, cuda, dpkg, osrelease, python
from imagekit.inventory.artifacts import read_artifacts, read_data, read_plan
from imagekit.inventory.cuda import read_cuda
from imagekit.inventory.dpkg import read_debs
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import DigestKind, ImageConfig, ImageSource, SourceKind
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
from imagekit.inventory.python import read_python
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
    "PythonDist",
    "SourceKind",
    "inventory_of_view",
    "make_source",
    "open_source",
    "read_inventory",
    "read_inventory_from",
    "wanted",
]


_WANTED = (dpkg.wanted, python.wanted, cuda.wanted, osrelease.wanted, artifacts.wanted)


def wanted(path: str) -> bool | Kept:
    """Whether (and how much of it) the readers parse the file at `path`, so the layer walk
    keeps its bytes."""
    for reader in _WANTED:
        if rule := reader(path):
            return rule
    return False


def _image_info(source: ImageSource, config: ImageConfig, layers: tuple[str, ...]) -> ImageInfo:
    labels = config.labels
    digest, kind = config.identity
    return ImageInfo(
        reference=source.reference,
        source_kind=source.kind.value,
        digest=digest,
        digest_kind=kind.value if kind is not None else "",
        config_digest=config.digest,
        architecture=config.architecture,
        os=config.os,
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
    data = read_data(view, plan)
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


def read_inventory_from(source: ImageSource) -> Inventory:
    """The Inventory of the image `source` reads; raises `InventoryError` naming the image."""
    config, view, layers = walk_image(source, wanted)
    for warning in config.warnings:  # what the source left out, before what the readers find
        view.warn(warning)
    return inventory_of_view(_image_info(source, config, layers), view)


def read_inventory(
    reference: str,
    *,
    platform: str | None = None,
    exclude: Sequence[str] = (),
    default_excludes: bool = True,
) -> Inventory:
    """The Inventory of an image named by a daemon reference, an archive, an OCI layout or a
    root file system directory (see `sources.kind_of`).

    For a root file system, `exclude` names paths or globs inside it not to read, beside
    /proc, /sys, /dev and /run unless `default_excludes` is False (`_rootfs.excluded`).
    Raises `InventoryError`, also when `exclude` is given for an image that is not a root
    file system (its layers hold every path, and skipping some would misreport them)."""
    source = open_source(reference, platform=platform)
    if isinstance(source, RootfsSource):
        source = replace(source, exclude=tuple(exclude), default_excludes=default_excludes)
    elif exclude:
        raise InventoryError(
            f"{shown(reference)}: excludes apply to a root file system directory only, and this "
            f"is a {source.kind.value}: leave them out"
        )
    return read_inventory_from(source)
