"""`docker save` archives, from a file or streamed straight out of a Docker daemon.

Both are read by `imagekit.image.archive_reader`, once, as a stream: a daemon's archive is
never written anywhere (`images.get(ref).save()` is read as it arrives). The image is
identified by its manifest digest when the archive carries Docker 25+'s index.json, else by
its config digest, Docker's image id (see `interface.SourceImage.identity`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from imagekit.daemon import DaemonUnavailableError, docker_client
from imagekit.image.archive_reader import read_docker_archive
from imagekit.image.config import ImageConfig
from imagekit.image.errors import OciError
from imagekit.image.model import parse_json
from imagekit.image.streams import CHUNK, IterStream
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import (
    LayerStream,
    LayerVisitor,
    SourceImage,
    SourceKind,
)


def read_archive(
    stream: IO[bytes], visit: LayerVisitor, *, where: str, image: str | None = None
) -> SourceImage:
    """Read a `docker save` archive from a stream; raises `InventoryError`."""

    def layer(name: str, data: IO[bytes]) -> None:
        visit(LayerStream(name=name, media_type=None, stream=data))

    try:
        read = read_docker_archive(stream, layer, where=where, image=image)
        config_where = f"{where}: {read.config_name}"
        config = ImageConfig.from_dict(parse_json(read.config, config_where), config_where)
    except InventoryError:
        raise
    except OciError as e:
        raise InventoryError(str(e)) from e
    return SourceImage(
        config=config,
        digest=read.config_digest,
        manifest_digest=read.manifest_digest,
        annotations=dict(read.annotations),
        names=read.names,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DockerArchiveSource:
    path: Path
    image: str | None = None  # the RepoTag to read when the archive holds several images

    @property
    def kind(self) -> SourceKind:
        return SourceKind.DOCKER_ARCHIVE

    @property
    def reference(self) -> str:
        return str(self.path)

    def read(self, visit: LayerVisitor) -> SourceImage:
        """Stream the archive file once; raises `InventoryError`."""
        try:
            with self.path.open("rb") as f:
                return read_archive(f, visit, where=str(self.path), image=self.image)
        except OSError as e:
            raise InventoryError(f"{self.path}: cannot be read ({e.strerror or e})") from e


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonSource:
    """An image in the Docker daemon at DOCKER_HOST, exported with `docker save` as a stream."""

    name: str

    @property
    def kind(self) -> SourceKind:
        return SourceKind.DAEMON

    @property
    def reference(self) -> str:
        return self.name

    def read(self, visit: LayerVisitor) -> SourceImage:
        """Stream `docker save` of the image; raises `InventoryError`."""
        import docker.errors  # noqa: PLC0415 - the SDK loads in 0.15 s: only for a daemon image

        try:
            client = docker_client()
        except DaemonUnavailableError as e:
            raise InventoryError(
                f"{self.name}: no such file or directory, and no Docker daemon answers at "
                f"{e.host} to look it up as an image (start one or set DOCKER_HOST, or give the "
                "path of an archive, OCI layout or root file system)"
            ) from e
        try:
            image = client.images.get(self.name)
            chunks = image.save(chunk_size=CHUNK)
            # Read as it arrives; never written to disk.
            with io.BufferedReader(IterStream(chunks), CHUNK) as stream:
                return read_archive(stream, visit, where=f"{self.name} (docker save)")
        except docker.errors.ImageNotFound as e:
            raise InventoryError(
                f"{self.name}: no such file or directory, and no such image in the Docker daemon"
                " (build or pull it, or give the path of an archive or OCI layout)"
            ) from e
        except (docker.errors.DockerException, OSError) as e:
            raise InventoryError(f"{self.name}: the Docker daemon failed to export it ({e})") from e
        finally:
            client.close()
