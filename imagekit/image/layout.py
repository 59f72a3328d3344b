"""OCI image layouts on disk, the one reader and writer: `oci-layout`, `index.json`,
`blobs/<algorithm>/<hex>`. Write one atomically, read one back, verify its blobs.

Every builder, converter and the registry's pull and push read and write layouts here. A
layout is written into a temporary folder beside its destination and renamed into place only
once every blob, the manifest and index.json are complete; an interrupted write leaves the
previous layout (or none) and no half-written one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imagekit.fsio import copy_file
from imagekit.image.config import ImageConfig
from imagekit.image.digest import Digest, digest_of, file_digest, split_digest
from imagekit.image.errors import ContentMismatchError, OciError
from imagekit.image.model import (
    CONFIG_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    REF_NAME,
    Descriptor,
    Image,
    Index,
    LayerBlob,
    Manifest,
    canonical_json,
    parse_json,
)
from imagekit.workdir import owned_dir

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
# Manifests, indexes and configs are kilobytes; a blob read whole is refused past this.
MAX_JSON_BLOB = 16 << 20


def blob_path(layout: Path, digest: Digest) -> Path:
    algorithm, hexdigest = split_digest(digest)
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
    write_entries(layout, [descriptor])
    return descriptor


def write_entries(layout: Path, manifests: Sequence[Descriptor]) -> None:
    """oci-layout and an index.json listing `manifests` (whose blobs are in `layout`)."""
    (layout / LAYOUT_FILE).write_bytes(OCI_LAYOUT)
    index = Index(manifests=tuple(manifests))
    (layout / INDEX_FILE).write_bytes(canonical_json(index.to_dict()))


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
    """A small blob's bytes (at most `MAX_JSON_BLOB`), checked against its descriptor.

    Raises `OciError` for a blob that is too large, missing, or does not match.
    """
    path = blob_path(layout, descriptor.digest)
    if descriptor.size > MAX_JSON_BLOB:
        raise OciError(f"{path}: {descriptor.size} bytes is too large for a manifest or config")
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise OciError(f"{path}: blob {descriptor.digest} is missing from the layout") from e
    except OSError as e:
        raise OciError(f"{path}: cannot read blob {descriptor.digest}: {e.strerror}") from e
    actual = digest_of(data)
    if actual != descriptor.digest or len(data) != descriptor.size:
        raise ContentMismatchError(
            f"{path}: does not hold {descriptor.digest} ({len(data)} bytes, {descriptor.size} "
            f"expected, hashing to {actual}); the layout is damaged"
        )
    return data


def verify_blob(layout: Path, descriptor: Descriptor) -> None:
    """Re-hash a (large) blob; raises `OciError` if it is missing or does not match."""
    path = blob_path(layout, descriptor.digest)
    try:
        actual = file_digest(path)
    except FileNotFoundError as e:
        raise OciError(f"{path}: layer {descriptor.digest} is missing from the layout") from e
    if actual != descriptor.digest:
        raise ContentMismatchError(
            f"{path}: layer does not match its digest {descriptor.digest}; delete the layout "
            "so it is built again"
        )


def read_index(layout: Path) -> Index:
    """The layout's index.json; raises `OciError` for a missing or malformed one."""
    path = layout / INDEX_FILE
    return Index.from_dict(_json(path), str(path))


def read_layout(layout: Path, ref_name: str | None = None) -> Image:
    """The image `ref_name` (or the only one) of the OCI layout at `layout`.

    Raises `OciError` for a missing or malformed index, manifest or config.
    """
    manifests = list(read_index(layout).manifests)
    if ref_name is not None:
        manifests = [m for m in manifests if m.annotation(REF_NAME) == ref_name]
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
