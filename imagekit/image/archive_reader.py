"""The one docker-archive (`docker save`) reader: a file or a daemon's export, as a stream.

Both layouts are read: the classic one (`<id>/layer.tar`, `<image id>.json`, manifest.json) and
the OCI-like one Docker 25+ writes (`blobs/sha256/<digest>`, index.json, manifest.json). The
archive is read front to back once, as a stream: manifest.json comes last, so layers are handed
over in archive order and the small JSON members are kept until it arrives. Every blob is
checked against the digest it is named by, and the config against its name.

The image is chosen by its RepoTag when the archive holds several. An archive has no manifest
of its own (manifest.json names a config and layers), so the image is identified by the digest
of its config, Docker's image id, unless the archive carries an OCI index.json (Docker 25+):
then by the manifest digest it names for that config. The config's bytes are kept as they are,
since its digest is the image id.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from imagekit.errors import InputError
from imagekit.image.digest import READ_ALGORITHMS, Digest, digest_of, parse_digest
from imagekit.image.errors import ContentMismatchError, OciError
from imagekit.image.index import image_manifests
from imagekit.image.model import Descriptor, Manifest, parse_json
from imagekit.image.streams import (
    CHUNK,
    DECOMPRESS_ERRORS,
    TAR_BUFSIZE,
    HashingReader,
    decompressed,
    read_at_most,
    sniff,
)
from imagekit.limits import load_json, shown

MAX_JSON = 16 << 20  # manifests and configs are kilobytes; a larger member is a layer
_BLOB = re.compile(r"^blobs/(?P<algo>sha256|sha512)/(?P<hex>[0-9a-f]+)$")
_CONFIG = re.compile(r"^(?P<hex>[0-9a-f]{64})\.json$")

# Called once per layer with its name in the archive and its bytes as stored (plain or gzip),
# readable only during the call.
LayerReader = Callable[[str, IO[bytes]], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivedImage:
    """What a docker-archive says of the image read from it."""

    config_name: str  # the config's member in the archive, for messages
    config: bytes  # the config blob exactly as stored: its digest is the image id
    config_digest: Digest
    manifest_digest: Digest | None  # the manifest index.json names (Docker 25+), if any
    # The manifest's annotations, then those of its index entry (which win).
    annotations: tuple[tuple[str, str], ...]
    names: tuple[str, ...]  # the entry's RepoTags


@dataclass(slots=True)
class _Archive:
    """What one pass over an archive collected, besides the layers it handed over."""

    where: str
    json: dict[str, bytes] = field(default_factory=dict)  # small JSON members, by path
    visited: set[str] = field(default_factory=set)  # layer members already handed over
    links: dict[str, str] = field(default_factory=dict)  # symlinked members -> their targets


def read_docker_archive(
    stream: IO[bytes], visit: LayerReader, *, where: str, image: str | None = None
) -> ArchivedImage:
    """Read a `docker save` archive (maybe gzipped) from `stream`, handing every layer to
    `visit`; `image` is the RepoTag to read when the archive holds several.

    Raises `OciError` naming `where` for a file that is not a docker-archive, a blob or config
    that does not match its name, or an archive that does not say which image to read.
    """
    archive = _Archive(where=where)
    try:
        _, plain = decompressed(stream, where)
        with tarfile.open(fileobj=plain, mode="r|", bufsize=TAR_BUFSIZE) as tar:
            for member in tar:
                _member(archive, tar, member, visit)
    except tarfile.TarError as e:
        raise OciError(f"{where}: not a readable tar archive ({e})") from e
    except DECOMPRESS_ERRORS as e:
        raise OciError(f"{where}: cannot be read ({e})") from e
    entry = _entry(archive, image)
    read = _config(archive, entry)
    _late_layers(archive, entry, visit)
    return read


def _json_member(archive: _Archive, name: str, stream: IO[bytes]) -> None:
    data = read_at_most(stream, MAX_JSON)
    if data is None:
        raise OciError(f"{archive.where}: {name} is too large for a JSON document")
    archive.json[name] = data


def _blob_member(
    archive: _Archive, name: str, member: tarfile.TarInfo, stream: IO[bytes], visit: LayerReader
) -> None:
    """A blob is a layer unless it starts like JSON (manifests and config are JSON)."""
    match = _BLOB.match(name)
    if match is None:
        return
    where = f"{archive.where}: {name}"
    expected = parse_digest(f"{match['algo']}:{match['hex']}", where, algorithms=READ_ALGORITHMS)
    reader = HashingReader(stream, match["algo"])
    head, buffered = sniff(io.BufferedReader(reader, CHUNK), 64)
    if member.size <= MAX_JSON and head.lstrip().startswith(b"{"):
        _json_member(archive, name, buffered)
    else:
        visit(name, buffered)
        archive.visited.add(name)
    reader.verify(expected, where)


def _member(
    archive: _Archive, tar: tarfile.TarFile, member: tarfile.TarInfo, visit: LayerReader
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
        visit(name, stream)
        archive.visited.add(name)
    elif name.endswith(".json") and "/" not in name and member.size <= MAX_JSON:
        _json_member(archive, name, stream)


def _entry(archive: _Archive, image: str | None) -> dict[str, Any]:
    """The manifest.json entry of the wanted image (the only one, or the one tagged so)."""
    if "manifest.json" not in archive.json:
        raise OciError(f"{archive.where}: no manifest.json: not a `docker save` archive")
    try:
        entries = load_json(archive.json["manifest.json"], f"{archive.where}: manifest.json")
    except InputError as e:
        raise OciError(str(e)) from e
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise OciError(f"{archive.where}: manifest.json must be a list of objects")
    if image is not None:
        entries = [e for e in entries if image in (e.get("RepoTags") or ())]
    if len(entries) != 1:
        tags = sorted(t for e in entries for t in (e.get("RepoTags") or ()))
        what = f"{len(entries)} images" + (f" ({shown(', '.join(map(str, tags)))})" if tags else "")
        raise OciError(f"{archive.where}: manifest.json lists {what}: name one")
    entry: dict[str, Any] = entries[0]
    return entry


def _config(archive: _Archive, entry: dict[str, Any]) -> ArchivedImage:
    name = str(entry.get("Config") or "")
    data = archive.json.get(posixpath.normpath(name)) if name else None
    if data is None:
        what = shown(name) if name else "(none)"
        raise OciError(f"{archive.where}: config {what} is not in the archive")
    digest = digest_of(data)
    stem = _CONFIG.match(name) or _BLOB.match(name)
    if stem is not None and stem["hex"] != digest.removeprefix("sha256:"):
        raise ContentMismatchError(
            f"{archive.where}: {shown(name)} has digest {digest}: the archive is corrupt"
        )
    manifest_digest, annotations = _manifest_digest(archive, digest)
    tags = entry.get("RepoTags")
    return ArchivedImage(
        config_name=name,
        config=data,
        config_digest=digest,
        manifest_digest=manifest_digest,
        annotations=annotations,
        names=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )


def _manifest_digest(
    archive: _Archive, config_digest: Digest
) -> tuple[Digest | None, tuple[tuple[str, str], ...]]:
    """The digest of the manifest index.json names for the config `config_digest`, and its
    annotations and then its index entry's; None and () when the archive has no index.json
    (Docker before 25) or names no such manifest.

    Blobs index.json names but the archive does not hold (the other platforms of a
    multi-platform image) are passed over; the blobs it holds were checked against their names.
    """
    if "index.json" not in archive.json:
        return None, ()

    def read(desc: Descriptor) -> bytes | None:
        data = archive.json.get(f"blobs/{desc.digest.replace(':', '/')}")
        if data is not None and len(data) != desc.size:
            raise ContentMismatchError(
                f"{archive.where}: blob {desc.digest} is {len(data)} bytes, index.json says "
                f"{desc.size}: the archive is corrupt"
            )
        return data

    index = parse_json(archive.json["index.json"], f"{archive.where}: index.json")
    for desc in image_manifests(index, archive.where, read):
        data = read(desc)
        if data is None:
            continue
        where = f"{archive.where}: manifest {desc.digest}"
        manifest = Manifest.from_dict(parse_json(data, where), where)
        if manifest.config.digest == config_digest:
            notes = dict(manifest.annotations) | dict(desc.annotations)
            return desc.digest, tuple(notes.items())
    return None, ()


def _late_layers(archive: _Archive, entry: dict[str, Any], visit: LayerReader) -> None:
    """Check every layer manifest.json lists was seen; visit any that was kept as JSON."""
    layers = entry.get("Layers")
    if not isinstance(layers, list):
        raise OciError(f"{archive.where}: manifest.json has no Layers list")
    for listed in layers:
        name = posixpath.normpath(str(listed))
        name = archive.links.get(name, name)
        if name in archive.visited:
            continue
        if name not in archive.json:
            raise OciError(f"{archive.where}: layer {shown(listed)} is missing from the archive")
        visit(name, io.BytesIO(archive.json[name]))
        archive.visited.add(name)
