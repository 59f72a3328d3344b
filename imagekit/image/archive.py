"""docker-archive tarballs (the `docker save` format) and a daemon's images, as OCI layouts.

The archive written here is the OCI layout plus `manifest.json` and `repositories`, the form
`docker load` reads (Docker 20.10 and newer; the gzip layers are loaded as they are). An archive
or a daemon's image is read (by `archive_reader`, the one reader, as a stream) into an OCI
layout: plain layer tars are compressed with the deterministic gzip, so the diff ids (and the
config, hence the image id) stay what they were.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import threading
import zlib
from pathlib import Path
from typing import IO, Any, cast

import docker
import docker.errors

from imagekit.fsio import atomic_file, staged_file
from imagekit.image.archive_reader import read_docker_archive
from imagekit.image.compress import compress_tar
from imagekit.image.config import ImageConfig
from imagekit.image.digest import Digest, file_digest
from imagekit.image.errors import OciError
from imagekit.image.layout import blob_path, read_layout, staged_dir, write_image, write_index
from imagekit.image.model import Compression, Descriptor, Image, LayerBlob, parse_json
from imagekit.image.streams import CHUNK, GZIP_MAGIC, IterStream, sniff
from imagekit.image.tarlayer import Entry, EntryKind, Tree, bytes_entry, write_tar
from imagekit.limits import shown

GZIP = Compression.GZIP

# CUDA and torch layers unpack to ~10 GB, a layer of model weights to their size; a gzip bomb
# unpacks 1,000 times its size. Past this, a layer of a docker-archive is refused.
MAX_LAYER_UNPACKED = 64 << 30


def _file_entry(path: Path, name: str, mtime: int) -> Entry:
    size = path.stat().st_size
    return Entry(
        path=name,
        kind=EntryKind.FILE,
        mode=0o644,
        mtime=mtime,
        size=size,
        opener=lambda: path.open("rb"),
    )


def archive_tree(layout: Path, image: Image, tag: str, *, mtime: int, present: int = 0) -> Tree:
    """The entries of the docker-archive of `image` (whose blobs are in `layout`).

    `present`: how many of the image's first layers the daemon that loads it holds already.
    Their blobs are left out: Docker's loader (20.10 and newer, with its own layer store)
    opens a layer's file only when it lacks the layer's chain, so an archive of the new
    layers loads the whole image; a loader that needs every blob refuses it.
    """
    tree = Tree()
    blobs = [image.manifest_digest, image.manifest.config.digest]
    blobs += [layer.descriptor.digest for layer in image.layers[present:]]
    for digest in dict.fromkeys(blobs):
        path = blob_path(layout, digest)
        tree.add(_file_entry(path, path.relative_to(layout).as_posix(), mtime))
    for name in ("oci-layout", "index.json"):
        tree.add(_file_entry(layout / name, name, mtime))
    config = f"blobs/sha256/{image.manifest.config.digest.removeprefix('sha256:')}"
    manifest = [
        {
            "Config": config,
            "RepoTags": [tag],
            "Layers": [
                f"blobs/sha256/{x.descriptor.digest.removeprefix('sha256:')}" for x in image.layers
            ],
        }
    ]
    repository, _, version = tag.rpartition(":")
    repositories = {repository: {version: image.manifest.config.digest.removeprefix("sha256:")}}
    tree.add(bytes_entry("manifest.json", json.dumps(manifest).encode(), mtime=mtime))
    tree.add(bytes_entry("repositories", json.dumps(repositories).encode(), mtime=mtime))
    return tree


def write_archive(layout: Path, image: Image, tag: str, dest: Path, *, mtime: int) -> None:
    """Write the docker-archive of `image` to `dest`, atomically (a temp file renamed)."""
    tree = archive_tree(layout, image, tag, mtime=mtime)
    with atomic_file(dest, mode=0o644) as f:
        write_tar(tree, f, mtime=mtime)


def load_into_daemon(client: docker.DockerClient, archive: Path) -> None:
    """`docker load` the archive; raises `OciError` with the daemon's message."""
    try:
        with archive.open("rb") as f:
            client.images.load(f)
    except docker.errors.DockerException as e:
        raise OciError(f"the Docker daemon refused {archive}: {_explained(e)}") from e


def stream_into_daemon(client: docker.DockerClient, tree: Tree, *, mtime: int) -> None:
    """`docker load` the docker-archive `tree` as it is written: no archive file on disk.

    Raises `OciError` with the daemon's message, or with what stopped the archive's writing
    (a blob that cannot be read).
    """
    read_end, write_end = os.pipe()
    failed: list[BaseException] = []

    def produce() -> None:
        try:
            with _PipeEnd(write_end) as out:  # a raw stream: what tarfile calls, it has
                write_tar(tree, cast(IO[bytes], out), mtime=mtime)
        except BrokenPipeError:
            pass  # the daemon stopped reading: its own error says why
        except BaseException as e:  # reported by the loading thread below
            failed.append(e)

    writer = threading.Thread(target=produce, name="docker-load", daemon=True)
    writer.start()
    refused: docker.errors.DockerException | None = None
    try:
        with os.fdopen(read_end, "rb") as source:
            # sent in chunks as it is read (no length known); the daemon's answer read to its
            # end, so that a refusal leaves no connection open
            answer = client.api.load_image(source)  # type: ignore[no-untyped-call]
            said = [x["errorDetail"]["message"] for x in answer if "errorDetail" in x]
        if said:
            refused = docker.errors.ImageLoadError(said[0])
    except docker.errors.DockerException as e:
        refused = e
    finally:
        writer.join()
    if failed:  # the daemon's complaint about a cut archive would hide the cause
        raise OciError(f"writing the image for the Docker daemon failed: {failed[0]}")
    if refused is not None:
        raise OciError(f"the Docker daemon refused the image: {_explained(refused)}") from refused


class _PipeEnd(io.RawIOBase):
    """A pipe's write end that counts what it was given: tarfile asks where it is (`tell`),
    which a pipe cannot say."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            done += os.write(self.fd, view[done:])
        self.position += done
        return done

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        if not self.closed:
            os.close(self.fd)
        super().close()


def _explained(e: docker.errors.DockerException) -> str:
    if isinstance(e, docker.errors.APIError):
        return str(e.explanation)
    return str(e)


class _LayerStore:
    """Layers of a docker-archive as gzip blobs of a layout, by their diff ids.

    A plain layer tar is compressed with the deterministic gzip, so its diff id (and the
    config, hence the image id) stays what it was; a gzip layer is kept as it is, and
    decompressed only to learn its diff id, to `MAX_LAYER_UNPACKED` bytes.
    """

    def __init__(self, layout: Path, where: str) -> None:
        self.layout = layout
        self.where = where  # the archive, for messages
        self.blobs: dict[Digest, LayerBlob] = {}

    def add(self, name: str, stream: IO[bytes]) -> None:
        head, stream = sniff(stream, 2)
        if head == GZIP_MAGIC:
            blob = self._gzip(name, stream)
        else:
            blob = compress_tar(stream, self.layout / "blobs" / "sha256", compression=GZIP)
        self.blobs.setdefault(blob.diff_id, blob)

    def _gzip(self, name: str, stream: IO[bytes]) -> LayerBlob:
        # Staged (locked, removed on any error) until its digest names it: a gzip bomb or a
        # broken stream leaves no temporary file in the layout.
        with staged_file(self.layout, ".layer-") as staged:
            shutil.copyfileobj(stream, staged.file, CHUNK)
            staged.file.flush()
            diff_id = gzip_diff_id(staged.path, f"{self.where}: layer {shown(name)}")
            digest, size = file_digest(staged.path), staged.path.stat().st_size
            target = blob_path(self.layout, digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.publish(target, mode=0o644)
        descriptor = Descriptor(media_type=GZIP.media_type, digest=digest, size=size)
        return LayerBlob(descriptor=descriptor, diff_id=diff_id)

    def image_layers(self, config: ImageConfig, where: str) -> tuple[LayerBlob, ...]:
        """The layers in the config's order; the blobs of no layer of it are removed.

        Raises `OciError` when the archive's layers are not the config's diff ids.
        """
        if set(config.diff_ids) - set(self.blobs):
            raise OciError(f"{where}: its layers do not match the config's diff ids")
        for diff_id in set(self.blobs) - set(config.diff_ids):
            blob_path(self.layout, self.blobs.pop(diff_id).descriptor.digest).unlink()
        return tuple(self.blobs[diff_id] for diff_id in config.diff_ids)


def gzip_diff_id(path: Path, where: str, limit: int = MAX_LAYER_UNPACKED) -> Digest:
    """sha256 of the gzip layer's plain tar; raises `OciError` past `limit` bytes of it."""
    digest = hashlib.sha256()
    size = 0
    try:
        with gzip.open(path, "rb") as plain:
            while chunk := plain.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if size > limit:
                    raise OciError(
                        f"{where} unpacks to more than {limit} bytes (MAX_LAYER_UNPACKED); "
                        "a compressed bomb is refused"
                    )
    except (OSError, EOFError, zlib.error) as e:
        raise OciError(f"{where} is not a valid gzip stream ({e})") from e
    return Digest(f"sha256:{digest.hexdigest()}")


def read_archive(archive: Path, dest: Path, ref_name: str, *, image: str | None = None) -> Image:
    """Turn the docker-archive `archive` into the OCI layout `dest` naming it `ref_name`.

    `image`: the RepoTag to read when the archive holds several images. Raises `OciError` for
    a file that is not a docker-archive, an image that is not named when it must be, or layers
    that do not match the config's diff ids.
    """
    try:
        with archive.open("rb") as f:
            return _to_layout(f, str(archive), dest, ref_name, image)
    except OSError as e:
        raise OciError(f"{archive}: cannot read the docker-archive ({e})") from e


def _to_layout(
    stream: IO[bytes], where: str, dest: Path, ref_name: str, image: str | None
) -> Image:
    """The docker-archive `stream` as the OCI layout `dest`, written atomically."""
    with staged_dir(dest) as layout:
        store = _LayerStore(layout, where)
        read = read_docker_archive(stream, store.add, where=where, image=image)
        config_where = f"{where}: {shown(read.config_name)}"
        config = ImageConfig.from_dict(parse_json(read.config, config_where), config_where)
        layers = store.image_layers(config, where)
        written = write_image(layout, config, layers, {}, config_bytes=read.config)
        write_index(layout, written, ref_name)
    return read_layout(dest, ref_name)


def save_from_daemon(client: docker.DockerClient, reference: str, dest: Path) -> Image:
    """Save the daemon's image `reference` into the OCI layout `dest`; raises `OciError`."""
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound as e:
        raise OciError(f"image {reference} is not in the Docker daemon") from e
    try:
        # Read as it arrives, like any docker-archive; never written to disk whole.
        chunks = image.save(named=True, chunk_size=CHUNK)
        with io.BufferedReader(IterStream(chunks), CHUNK) as stream:
            return _to_layout(stream, f"{reference} (docker save)", dest, reference, None)
    except docker.errors.DockerException as e:
        raise OciError(f"{reference}: the Docker daemon failed to export it ({e})") from e
