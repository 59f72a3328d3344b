"""OCI image layouts on disk: write one atomically, read one back, verify its blobs.

A layout is written into a temporary folder beside its destination and renamed into place only
once every blob, the manifest and index.json are complete; an interrupted write leaves the
previous layout (or none) and no half-written one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imagekit.fsio import copy_file
from imagekit.image.model import (
    CONFIG_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    REF_NAME,
    Descriptor,
    Digest,
    Image,
    ImageConfig,
    LayerBlob,
    Manifest,
    OciError,
    canonical_json,
    digest_of,
    parse_json,
)
from imagekit.workdir import owned_dir

OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


def blob_path(layout: Path, digest: Digest) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


def link_blob(source: Path, layout: Path, digest: Digest) -> None:
    """Put the blob `source` into `layout` (a hard link where the file system allows)."""
    target = blob_path(layout, digest)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: copy
        copy_file(source, target)


def write_blob(layout: Path, data: bytes) -> Digest:
    digest = digest_of(data)
    path = blob_path(layout, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def write_image(
    layout: Path,
    config: ImageConfig,
    layers: tuple[LayerBlob, ...],
    annotations: dict[str, str],
    *,
    config_bytes: bytes | None = None,
) -> Image:
    """Write the config and manifest blobs of an image whose layer blobs are in `layout`.

    `config_bytes`: the config exactly as read elsewhere (its digest is an image id to keep).
    """
    config_bytes = config_bytes or canonical_json(config.to_dict())
    config_desc = Descriptor(
        media_type=CONFIG_MEDIA_TYPE,
        digest=write_blob(layout, config_bytes),
        size=len(config_bytes),
    )
    manifest = Manifest(
        config=config_desc,
        layers=tuple(layer.descriptor for layer in layers),
        annotations=tuple(sorted(annotations.items())),
    )
    manifest_bytes = canonical_json(manifest.to_dict())
    return Image(
        manifest=manifest,
        manifest_digest=write_blob(layout, manifest_bytes),
        config=config,
        layers=layers,
    )


def write_index(layout: Path, image: Image, ref_name: str) -> Descriptor:
    """oci-layout and index.json naming the image `ref_name`; the manifest's descriptor."""
    size = blob_path(layout, image.manifest_digest).stat().st_size
    descriptor = Descriptor(
        media_type=MANIFEST_MEDIA_TYPE,
        digest=image.manifest_digest,
        size=size,
        annotations=((REF_NAME, ref_name),),
    )
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [descriptor.to_dict()],
    }
    (layout / "oci-layout").write_bytes(OCI_LAYOUT)
    (layout / "index.json").write_bytes(canonical_json(index))
    return descriptor


@contextmanager
def staged_dir(dest: Path) -> Iterator[Path]:
    """A temporary folder beside `dest`, renamed to `dest` when the block completes.

    An existing `dest` is replaced only then; on any error (or Ctrl-C) the folder is removed.
    """
    # Locked while in use, so a killed build's folder is swept by the next (imagekit.workdir).
    with owned_dir(dest.parent, f".{dest.name}-") as tmp:
        tmp.chmod(0o755)  # the layout is not private
        yield tmp
        publish(tmp, dest)


def publish(tmp: Path, dest: Path) -> None:
    """Rename the complete folder `tmp` to `dest`, moving an older `dest` aside first."""
    if not dest.exists():
        tmp.replace(dest)
        return
    with owned_dir(dest.parent, f".{dest.name}-old-") as old:
        dest.replace(old / "layout")
        tmp.replace(dest)


def _json(path: Path, data: bytes | None = None) -> dict[str, Any]:
    """A JSON object of the layout, bounded in size and nesting; raises `OciError`."""
    try:
        raw = data if data is not None else path.read_bytes()
    except FileNotFoundError as e:
        raise OciError(f"{path}: missing; this is not a complete OCI layout") from e
    except OSError as e:
        raise OciError(f"{path}: cannot be read ({e.strerror})") from e
    return parse_json(raw, str(path))


def read_blob(layout: Path, descriptor: Descriptor) -> bytes:
    """A small blob's bytes, checked against its descriptor; raises `OciError`."""
    path = blob_path(layout, descriptor.digest)
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise OciError(f"{path}: blob {descriptor.digest} is missing from the layout") from e
    if digest_of(data) != descriptor.digest or len(data) != descriptor.size:
        raise OciError(f"{path}: blob does not match its digest {descriptor.digest}")
    return data


def verify_blob(layout: Path, descriptor: Descriptor) -> None:
    """Re-hash a (large) blob; raises `OciError` if it is missing or does not match."""
    path = blob_path(layout, descriptor.digest)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError as e:
        raise OciError(f"{path}: layer {descriptor.digest} is missing from the layout") from e
    if f"sha256:{digest.hexdigest()}" != descriptor.digest:
        raise OciError(
            f"{path}: layer does not match its digest {descriptor.digest}; delete the layout "
            "so it is built again"
        )


def read_layout(layout: Path, ref_name: str | None = None) -> Image:
    """The image `ref_name` (or the only one) of the OCI layout at `layout`.

    Raises `OciError` for a missing or malformed index, manifest or config.
    """
    index = _json(layout / "index.json")
    listed = index.get("manifests") or []
    if not isinstance(listed, list):
        raise OciError(f"{layout}/index.json: manifests is not a list")
    manifests = [
        Descriptor.from_dict(m, f"{layout}/index.json: manifests[{i}]")
        for i, m in enumerate(listed)
    ]
    if ref_name is not None:
        manifests = [m for m in manifests if dict(m.annotations).get(REF_NAME) == ref_name]
    if len(manifests) != 1:
        what = f"an image named {ref_name!r}" if ref_name else "exactly one image"
        raise OciError(f"{layout}/index.json: holds {len(manifests)} manifests, not {what}")
    where = str(blob_path(layout, manifests[0].digest))
    manifest = Manifest.from_dict(_json(Path(where), read_blob(layout, manifests[0])), where)
    config_where = str(blob_path(layout, manifest.config.digest))
    config = ImageConfig.from_dict(
        _json(Path(config_where), read_blob(layout, manifest.config)), config_where
    )
    if len(config.diff_ids) != len(manifest.layers):
        raise OciError(
            f"{config_where}: {len(config.diff_ids)} diff ids for {len(manifest.layers)} layers"
        )
    layers = tuple(
        LayerBlob(descriptor=d, diff_id=diff_id)
        for d, diff_id in zip(manifest.layers, config.diff_ids, strict=True)
    )
    return Image(
        manifest=manifest, manifest_digest=manifests[0].digest, config=config, layers=layers
    )
