"""docker-archive tarballs (the `docker save` format) and a daemon's images.

The archive written here is the OCI layout plus `manifest.json` and `repositories`, the form
`docker load` reads (Docker 20.10 and newer; the gzip layers are loaded as they are). An archive
or a daemon's image is read back into an OCI layout: plain layer tars are compressed with the
deterministic gzip, so the diff ids (and the config, hence the image id) stay what they were.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import docker.errors

from imagekit.checks.run import sha256_file as file_sha256
from imagekit.errors import InputError
from imagekit.image.layout import blob_path, read_layout, staged_dir, write_image, write_index
from imagekit.image.model import (
    Compression,
    Descriptor,
    Digest,
    Image,
    ImageConfig,
    LayerBlob,
    OciError,
    parse_json,
)
from imagekit.limits import MAX_JSON_DOCUMENT, load_json, shown
from imagekit.workdir import owned_file

# imagekit.build.oci (the tar layers, the compressor) is imported inside the functions that use
# it: that package imports this module, and `imagekit push ARCHIVE` reaches this one first.
if TYPE_CHECKING:
    from imagekit.build.oci.tarlayer import Entry, Tree

# CUDA and torch layers unpack to ~10 GB, a layer of model weights to their size; a gzip bomb
# unpacks 1,000 times its size. Past this, a layer of a docker-archive is refused.
MAX_LAYER_UNPACKED = 64 << 30


def _file_entry(path: Path, name: str, mtime: int) -> Entry:
    from imagekit.build.oci.tarlayer import Entry, EntryKind  # noqa: PLC0415 - see the imports

    size = path.stat().st_size
    return Entry(
        path=name,
        kind=EntryKind.FILE,
        mode=0o644,
        mtime=mtime,
        size=size,
        opener=lambda: path.open("rb"),
    )


def archive_tree(layout: Path, image: Image, tag: str, *, mtime: int) -> Tree:
    """The entries of the docker-archive of `image` (whose blobs are in `layout`)."""
    from imagekit.build.oci.tarlayer import Tree, bytes_entry  # noqa: PLC0415 - see the imports

    tree = Tree()
    blobs = [image.manifest_digest, image.manifest.config.digest]
    blobs += [layer.descriptor.digest for layer in image.layers]
    for digest in blobs:
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
    from imagekit.build.oci.tarlayer import write_tar  # noqa: PLC0415 - see the imports

    tree = archive_tree(layout, image, tag, mtime=mtime)
    # Locked while written, so a killed build's partial archive goes with the next one.
    with owned_file(dest.parent, f".{dest.name}-") as (f, tmp):
        try:
            write_tar(tree, f, mtime=mtime)
        except BaseException:
            tmp.unlink()
            raise
        tmp.chmod(0o644)
        tmp.replace(dest)


def load_into_daemon(client: docker.DockerClient, archive: Path) -> None:
    """`docker load` the archive; raises `OciError` with the daemon's message."""
    try:
        with archive.open("rb") as f:
            client.images.load(f)
    except docker.errors.APIError as e:
        raise OciError(f"the Docker daemon refused {archive}: {e.explanation}") from e


def _archive_json(tar: tarfile.TarFile, name: str, where: Path) -> Any:
    try:
        return load_json(_archive_bytes(tar, name, where), f"{where}: {name}")
    except InputError as e:
        raise OciError(f"{e}; not a docker-archive") from e


def _layer(tar: tarfile.TarFile, name: str, layout: Path, where: Path) -> LayerBlob:
    try:
        stream = tar.extractfile(name)
    except KeyError as e:
        raise OciError(f"{where}: layer {name} is missing from the archive") from e
    if stream is None:
        raise OciError(f"{where}: layer {name} is not a file")
    if stream.read(2) != b"\x1f\x8b":
        from imagekit.build.oci.compress import compress_tar  # noqa: PLC0415 - see the imports

        stream.seek(0)
        return compress_tar(stream, layout / "blobs" / "sha256", compression=Compression.GZIP)
    stream.seek(0)  # already gzip: kept as it is, decompressed only to learn its diff id
    with tempfile.NamedTemporaryFile(dir=layout, delete=False) as f:
        shutil.copyfileobj(stream, f, 1 << 20)
    tmp = Path(f.name)
    diff_id = _diff_id(tmp, f"{where}: layer {name}")
    digest = Digest(f"sha256:{file_sha256(tmp)}")
    size = tmp.stat().st_size
    target = blob_path(layout, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(target)
    media_type = Compression.GZIP.media_type
    return LayerBlob(
        descriptor=Descriptor(media_type=media_type, digest=digest, size=size), diff_id=diff_id
    )


def _diff_id(path: Path, where: str, limit: int = MAX_LAYER_UNPACKED) -> Digest:
    """sha256 of the gzip layer's plain tar; raises `OciError` past `limit` bytes of it."""
    digest = hashlib.sha256()
    size = 0
    try:
        with gzip.open(path, "rb") as plain:
            while chunk := plain.read(1 << 20):
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


def read_archive(archive: Path, dest: Path, ref_name: str) -> Image:
    """Turn the docker-archive `archive` into the OCI layout `dest` naming it `ref_name`.

    Raises `OciError` for a file that is not a docker-archive or whose layers do not match
    its config's diff ids.
    """
    with _open_archive(archive) as tar, staged_dir(dest) as layout:
        manifest = _archive_json(tar, "manifest.json", archive)
        if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
            raise OciError(f"{archive}: manifest.json lists no image")
        entry = manifest[0]
        config_name = str(entry.get("Config"))
        config_bytes = _archive_bytes(tar, config_name, archive)
        where = f"{archive}: {shown(config_name)}"
        config = ImageConfig.from_dict(parse_json(config_bytes, where), where)
        names = entry.get("Layers") or []
        if not isinstance(names, list):
            raise OciError(f"{archive}: manifest.json: Layers is not a list")
        layers = tuple(_layer(tar, str(name), layout, archive) for name in names)
        if tuple(layer.diff_id for layer in layers) != config.diff_ids:
            raise OciError(f"{archive}: its layers do not match the config's diff ids")
        image = write_image(layout, config, layers, {}, config_bytes=config_bytes)
        write_index(layout, image, ref_name)
    return read_layout(dest, ref_name)


def _open_archive(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive)
    except (OSError, tarfile.TarError) as e:
        raise OciError(f"{archive}: cannot read the docker-archive ({e})") from e


def _archive_bytes(tar: tarfile.TarFile, name: str, where: Path) -> bytes:
    """A small (JSON) member's bytes, at most `MAX_JSON_DOCUMENT`; raises `OciError`."""
    try:
        info = tar.getmember(name)
    except KeyError as e:
        raise OciError(f"{where}: {shown(name)} is missing; not a docker-archive") from e
    if info.size > MAX_JSON_DOCUMENT:
        raise OciError(f"{where}: {shown(name)} of {info.size} bytes is too large for JSON")
    member = tar.extractfile(info)
    if member is None:
        raise OciError(f"{where}: {shown(name)} is not a file")
    return member.read()


def save_from_daemon(client: docker.DockerClient, reference: str, dest: Path) -> Image:
    """Save the daemon's image `reference` into the OCI layout `dest`; raises `OciError`."""
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound as e:
        raise OciError(f"image {reference} is not in the Docker daemon") from e
    with tempfile.TemporaryDirectory(prefix=".save-", dir=dest.parent) as tmp:
        archive = Path(tmp) / "image.tar"
        with archive.open("wb") as f:
            for chunk in image.save(named=True):
                f.write(chunk)
        return read_archive(archive, dest, reference)
