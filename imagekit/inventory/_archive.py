"""`docker save` archives, from a file or streamed straight out of a Docker daemon.

Both layouts are read: the classic one (`<id>/layer.tar`, `<image id>.json`, manifest.json) and
the OCI-like one Docker 25+ writes (`blobs/sha256/<digest>`, index.json, manifest.json). The
archive is read front to back once, as a stream: manifest.json comes last, so layers are handed
over in archive order and the small JSON members are kept until it arrives. A daemon's archive is
never written anywhere: `images.get(ref).save()` is read as it arrives.

An archive has no manifest of its own (`manifest.json` names a config and layers), so the
image is identified by the digest of its config, Docker's image id, unless the archive carries
an OCI index.json (Docker 25+): then by the manifest digest, as an OCI layout and a registry
identify it (see `interface.ImageConfig.identity`).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import docker.errors

from imagekit.daemon import DaemonUnavailableError, docker_client
from imagekit.errors import InputError
from imagekit.image.errors import OciError
from imagekit.image.index import image_manifests
from imagekit.image.model import Descriptor
from imagekit.inventory._streams import (
    CHUNK,
    DECOMPRESS_ERRORS,
    TAR_BUFSIZE,
    HashingReader,
    IterStream,
    check_digest,
    decompressed,
    read_at_most,
    sniff,
)
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import (
    ImageConfig,
    LayerStream,
    LayerVisitor,
    SourceKind,
    annotations_of,
    parse_config,
)
from imagekit.limits import load_json, shown

_MAX_JSON = 16 << 20
_BLOB = re.compile(r"^blobs/(?P<algo>sha256|sha512)/(?P<hex>[0-9a-f]+)$")
_CONFIG = re.compile(r"^(?P<hex>[0-9a-f]{64})\.json$")


@dataclass(slots=True)
class _Archive:
    """What one pass over an archive collected, besides the layers it handed over."""

    where: str
    json: dict[str, bytes] = field(default_factory=dict)  # small JSON members, by path
    visited: set[str] = field(default_factory=set)  # layer members already visited
    links: dict[str, str] = field(default_factory=dict)  # symlinked members -> their targets


def _json_member(archive: _Archive, name: str, stream: IO[bytes]) -> None:
    data = read_at_most(stream, _MAX_JSON)
    if data is None:
        raise InventoryError(f"{archive.where}: {name} is too large for a JSON document")
    archive.json[name] = data


def _blob_member(
    archive: _Archive, name: str, member: tarfile.TarInfo, stream: IO[bytes], visit: LayerVisitor
) -> None:
    """A blob is a layer unless it starts like JSON (manifests and config are JSON)."""
    match = _BLOB.match(name)
    if match is None:
        return
    expected = f"{match['algo']}:{match['hex']}"
    check_digest(expected, f"{archive.where}: {name}")
    reader = HashingReader(stream, match["algo"])
    head, buffered = sniff(io.BufferedReader(reader, CHUNK), 64)
    if member.size <= _MAX_JSON and head.lstrip().startswith(b"{"):
        _json_member(archive, name, buffered)
    else:
        visit(LayerStream(name=name, media_type=None, stream=buffered))
        archive.visited.add(name)
    reader.verify(expected, f"{archive.where}: {name}")


def _member(
    archive: _Archive, tar: tarfile.TarFile, member: tarfile.TarInfo, visit: LayerVisitor
) -> None:
    name = posixpath.normpath(member.name.removeprefix("./"))
    if member.issym():
        archive.links[name] = posixpath.normpath(
            posixpath.join(posixpath.dirname(name), member.linkname)
        )
        return
    stream = tar.extractfile(member) if member.isreg() else None
    if stream is None:
        return
    if name.startswith("blobs/"):
        _blob_member(archive, name, member, stream, visit)
    elif name.endswith("/layer.tar"):
        visit(LayerStream(name=name, media_type=None, stream=stream))
        archive.visited.add(name)
    elif name.endswith(".json") and "/" not in name and member.size <= _MAX_JSON:
        _json_member(archive, name, stream)


def _entry(archive: _Archive, image: str | None) -> dict[str, Any]:
    """The manifest.json entry of the wanted image (the only one, or the one tagged so)."""
    if "manifest.json" not in archive.json:
        raise InventoryError(f"{archive.where}: no manifest.json: not a `docker save` archive")
    try:
        entries = load_json(archive.json["manifest.json"], f"{archive.where}: manifest.json")
    except InputError as e:
        raise InventoryError(str(e)) from e
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InventoryError(f"{archive.where}: manifest.json must be a list of objects")
    if image is not None:
        entries = [e for e in entries if image in (e.get("RepoTags") or ())]
    if len(entries) != 1:
        tags = sorted(t for e in entries for t in (e.get("RepoTags") or ()))
        what = f"{len(entries)} images" + (f" ({shown(', '.join(map(str, tags)))})" if tags else "")
        raise InventoryError(f"{archive.where}: manifest.json lists {what}: name one")
    entry: dict[str, Any] = entries[0]
    return entry


def _config(archive: _Archive, entry: dict[str, Any]) -> ImageConfig:
    name = str(entry.get("Config") or "")
    data = archive.json.get(posixpath.normpath(name)) if name else None
    if data is None:
        what = shown(name) if name else "(none)"
        raise InventoryError(f"{archive.where}: config {what} is not in the archive")
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    stem = _CONFIG.match(name) or _BLOB.match(name)
    if stem is not None and stem["hex"] != digest.removeprefix("sha256:"):
        raise InventoryError(
            f"{archive.where}: {shown(name)} has digest {digest}: the archive is corrupt"
        )
    manifest_digest, annotations = _manifest_digest(archive, digest)
    tags = entry.get("RepoTags")
    return ImageConfig(
        raw=parse_config(data, f"{archive.where}: {name}"),
        digest=digest,
        manifest_digest=manifest_digest,
        annotations=annotations,
        names=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )


def _manifest_digest(archive: _Archive, config_digest: str) -> tuple[str | None, dict[str, str]]:
    """The digest of the manifest index.json names for the config `config_digest`, and its
    annotations and then its index entry's; None and {} when the archive has no index.json
    (Docker before 25) or names no such manifest.

    Blobs index.json names but the archive does not hold (the other platforms of a
    multi-platform image) are passed over; the blobs it holds were checked against their names.
    """
    if "index.json" not in archive.json:
        return None, {}

    def read(desc: Descriptor) -> bytes | None:
        data = archive.json.get(f"blobs/{desc.digest.replace(':', '/')}")
        if data is not None and len(data) != desc.size:
            raise InventoryError(
                f"{archive.where}: blob {desc.digest} is {len(data)} bytes, index.json says "
                f"{desc.size}: the archive is corrupt"
            )
        return data

    index = parse_config(archive.json["index.json"], f"{archive.where}: index.json")
    for desc in image_manifests(index, archive.where, read):
        data = read(desc)
        manifest = parse_config(data, f"{archive.where}: manifest {desc.digest}") if data else {}
        config = manifest.get("config")
        if isinstance(config, dict) and config.get("digest") == config_digest:
            return desc.digest, annotations_of(manifest) | dict(desc.annotations)
    return None, {}


def _late_layers(archive: _Archive, entry: dict[str, Any], visit: LayerVisitor) -> None:
    """Check every layer manifest.json lists was seen; visit any that was kept as JSON."""
    layers = entry.get("Layers")
    if not isinstance(layers, list):
        raise InventoryError(f"{archive.where}: manifest.json has no Layers list")
    for listed in layers:
        name = posixpath.normpath(str(listed))
        name = archive.links.get(name, name)
        if name in archive.visited:
            continue
        if name not in archive.json:
            raise InventoryError(
                f"{archive.where}: layer {shown(listed)} is missing from the archive"
            )
        visit(LayerStream(name=name, media_type=None, stream=io.BytesIO(archive.json[name])))
        archive.visited.add(name)


def read_archive(
    stream: IO[bytes], visit: LayerVisitor, *, where: str, image: str | None = None
) -> ImageConfig:
    """Read a `docker save` archive from a stream; raises `InventoryError`."""
    archive = _Archive(where=where)
    try:
        _, plain = decompressed(stream, where)
        with tarfile.open(fileobj=plain, mode="r|", bufsize=TAR_BUFSIZE) as tar:
            for member in tar:
                _member(archive, tar, member, visit)
    except tarfile.TarError as e:
        raise InventoryError(f"{where}: not a readable tar archive ({e})") from e
    except DECOMPRESS_ERRORS as e:
        raise InventoryError(f"{where}: cannot be read ({e})") from e
    entry = _entry(archive, image)
    try:
        config = _config(archive, entry)
    except InventoryError:
        raise
    except OciError as e:  # index.json's walk, which `imagekit.image` does
        raise InventoryError(str(e)) from e
    _late_layers(archive, entry, visit)
    return config


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

    def read(self, visit: LayerVisitor) -> ImageConfig:
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

    def read(self, visit: LayerVisitor) -> ImageConfig:
        """Stream `docker save` of the image; raises `InventoryError`."""
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
