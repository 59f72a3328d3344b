"""Where an image is read from: `open_source` tells a reference's kind and makes its source.

The interface (`ImageSource`, `SourceKind`, `LayerStream`, `ImageConfig`) lives in
`interface.py`; one module per kind implements it (`_oci`, `_archive`, `_rootfs`).

To add a kind of source (a registry, next): add a `SourceKind` member, a module with a class
that satisfies `ImageSource`, a branch in `make_source`, and a rule in `kind_of`; the test
that loops over `SourceKind` fails until all are there.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_never

from imagekit.inventory._archive import DaemonSource, DockerArchiveSource
from imagekit.inventory._oci import OciLayoutSource
from imagekit.inventory._rootfs import RootfsSource
from imagekit.inventory.interface import (
    ImageConfig,
    ImageSource,
    LayerStream,
    LayerVisitor,
    SourceKind,
)

__all__ = [
    "DaemonSource",
    "DockerArchiveSource",
    "ImageConfig",
    "ImageSource",
    "LayerStream",
    "LayerVisitor",
    "OciLayoutSource",
    "RootfsSource",
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
    """The kind of source a reference names, by what it is on this machine.

    A directory with `oci-layout` is an OCI layout, any other directory a root file system, a
    file a docker-archive; anything else is taken as an image in the Docker daemon. (Registry
    references, when they come, will be told apart by their `docker://` prefix here.)
    """
    path = Path(reference)
    if path.is_dir():
        return SourceKind.OCI_LAYOUT if (path / "oci-layout").is_file() else SourceKind.ROOTFS
    if path.exists():
        return SourceKind.DOCKER_ARCHIVE
    return SourceKind.DAEMON


def open_source(reference: str, *, platform: str | None = None) -> ImageSource:
    """The source `reference` names (see `kind_of`); `platform` picks from an OCI index."""
    return make_source(kind_of(reference), reference, platform=platform)
