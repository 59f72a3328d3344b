"""Where an image is read from: `open_source` tells a reference's kind and makes its source.

The interface (`ImageSource`, `SourceKind`, `LayerStream`, `SourceImage`) lives in
`interface.py`; one module per kind implements it (`_oci`, `_archive`, `_rootfs`).

To add a kind of source (a registry, next): add a `SourceKind` member, a module with a class
that satisfies `ImageSource`, and a branch in `make_source` (`imagekit.image.ref` already tells
its references apart); the test that loops over `SourceKind` fails until all are there.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_never

from imagekit.errors import InputError
from imagekit.image.ref import REGISTRY_PREFIX, RefKind, image_ref
from imagekit.inventory._archive import DaemonSource, DockerArchiveSource
from imagekit.inventory._oci import OciLayoutSource
from imagekit.inventory._rootfs import RootfsSource
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import (
    ImageSource,
    LayerStream,
    LayerVisitor,
    SourceImage,
    SourceKind,
)
from imagekit.limits import shown

__all__ = [
    "DaemonSource",
    "DockerArchiveSource",
    "ImageSource",
    "LayerStream",
    "LayerVisitor",
    "OciLayoutSource",
    "RootfsSource",
    "SourceImage",
    "SourceKind",
    "kind_of",
    "make_source",
    "open_source",
]


def make_source(kind: SourceKind, reference: str, *, platform: str | None = None) -> ImageSource:
    """The source of `kind` for `reference` (nothing is opened until `read`)."""
    match kind:
        case SourceKind.OCI_LAYOUT:
            return OciLayoutSource(path=Path(reference), platform=platform)
        case SourceKind.DOCKER_ARCHIVE:
            return DockerArchiveSource(path=Path(reference))
        case SourceKind.DAEMON:
            return DaemonSource(name=reference)
        case SourceKind.ROOTFS:
            return RootfsSource(path=Path(reference))
        case _:
            assert_never(kind)


def kind_of(reference: str) -> SourceKind:
    """The kind of source a reference names, by `imagekit.image.ref`'s rule (the one every
    command shares); raises `InventoryError` for a missing path, an SBOM, a lockfile, or a
    registry reference (pulled into a layout first)."""
    try:
        ref = image_ref(reference)
    except InputError as e:
        raise InventoryError(str(e)) from e
    if ref.kind is RefKind.REGISTRY:
        name = shown(reference.removeprefix(REGISTRY_PREFIX))
        raise InventoryError(
            f"{shown(reference)}: an image in a registry is read from a layout: "
            f"imagekit pull {name} -o DIR, then pass DIR"
        )
    if not ref.is_image:
        raise InventoryError(f"{shown(reference)}: {ref.described} is not an image (pass an image)")
    return SourceKind(ref.kind.value)


def open_source(reference: str, *, platform: str | None = None) -> ImageSource:
    """The source `reference` names (see `kind_of`); `platform` picks from an OCI index."""
    return make_source(kind_of(reference), reference, platform=platform)
