"""The interface every image source satisfies, and the values it hands over.

Every source gives the same two things: each layer once, as a stream of its bytes as stored
(compressed or not; never extracted to disk), and the image config JSON. A source verifies the
digests it knows while the bytes stream past (OCI blob digests, docker-archive blob names).

Sources that store layers in an order of their own (a `docker save` stream lists them by
directory name and puts manifest.json last) hand them over in that order: the layer walker puts
them in the image's order by their diff ids, which the config lists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Protocol

from imagekit.image.config import ImageConfig


class DigestKind(enum.StrEnum):
    """Which digest identifies an image (see `SourceImage.identity`)."""

    MANIFEST = "manifest"  # sha256 of the image manifest: what registries name
    IMAGE_ID = "image-id"  # sha256 of the config: Docker's image id, when no manifest is known


class SourceKind(enum.StrEnum):
    OCI_LAYOUT = "oci-layout"  # a directory with oci-layout, index.json and blobs/
    DOCKER_ARCHIVE = "docker-archive"  # a `docker save` tarball (either layout, maybe gzipped)
    DAEMON = "daemon"  # an image in a Docker daemon, streamed through `docker save`
    ROOTFS = "rootfs"  # an unpacked root file system directory


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerStream:
    """One layer's bytes as the source stores them; readable only while it is being visited."""

    name: str  # where in the source, for messages: "blobs/sha256/3f1c…", "f9ec…/layer.tar"
    media_type: str | None
    stream: IO[bytes]
    # The digest of the bytes as stored, where the source checks it while they stream (an OCI
    # blob): a visitor that already knows what those bytes hold may leave them unread.
    digest: str | None = None


# Returns True when it left a layer with a `digest` unread (it knew it by that digest): the
# source then does not check bytes nobody read. Sources without digests ignore the answer.
LayerVisitor = Callable[[LayerStream], bool | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceImage:
    """What a source says of the image it holds: its config (`imagekit.image.config`), the
    digests that identify it, its annotations and names. A root file system has no config."""

    config: ImageConfig | None = None
    digest: str | None = None  # of the config blob: the image id in Docker
    manifest_digest: str | None = None  # of the manifest (OCI layout, archive with index.json)
    # What the source could not read and left out (a root file system's unreadable files).
    warnings: tuple[str, ...] = ()
    # The manifest's annotations, then those of its entry in the index (which win): where an
    # image's title and ref name are (`org.opencontainers.image.title`, `...ref.name`).
    annotations: dict[str, str] = field(default_factory=dict)
    # The references the source names the image by: a docker-archive's RepoTags.
    names: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[str | None, DigestKind | None]:
        """The digest the image is identified by, and which digest it is.

        The rule: the manifest digest wherever the source holds the manifest (an OCI layout;
        a docker-archive or a daemon's `docker save` that carries Docker 25+'s index.json),
        since it is what a registry and `docker pull name@sha256:...` name an image by; for a
        multi-platform image, the manifest of the platform read, not the index. Where there
        is no manifest (an archive of Docker before 25), the config digest, which is Docker's
        image id, labelled `DigestKind.IMAGE_ID` so it is never taken for a manifest digest.
        A root file system has neither.
        """
        if self.manifest_digest is not None:
            return self.manifest_digest, DigestKind.MANIFEST
        if self.digest is not None:
            return self.digest, DigestKind.IMAGE_ID
        return None, None

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return self.config.diff_ids if self.config else ()

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.labels) if self.config else {}

    @property
    def architecture(self) -> str:
        return (self.config.architecture if self.config else "") or "unknown"

    @property
    def os(self) -> str:
        return (self.config.os if self.config else "") or "unknown"


class ImageSource(Protocol):
    """An image to read: its layers as streams, and its config."""

    @property
    def kind(self) -> SourceKind: ...

    @property
    def reference(self) -> str:
        """What the user named: a path or an image reference."""
        ...

    def read(self, visit: LayerVisitor) -> SourceImage:
        """Call `visit` once per layer (in the source's storage order), then return the config.

        Raises `InventoryError` when the image cannot be read or a digest does not match.
        """
        ...
