"""Pull one platform's image from a registry into an OCI image layout."""

from __future__ import annotations

from pathlib import Path

from imagekit import progress
from imagekit.image.digest import Digest
from imagekit.image.errors import OciError
from imagekit.image.layout import blob_path, write_entries
from imagekit.image.model import REF_NAME, Descriptor, Index, Manifest, Platform
from imagekit.registry.client import ClientOptions, FetchedManifest, RegistryClient
from imagekit.registry.defaults import DEFAULT_PLATFORM
from imagekit.registry.errors import ManifestError
from imagekit.registry.layout import SOURCE_ANNOTATION, check_free, staged
from imagekit.registry.reference import Reference, as_reference


def pull_to_layout(
    reference: Reference | str,
    layout_dir: Path,
    platform: str = DEFAULT_PLATFORM,
    *,
    options: ClientOptions | None = None,
) -> Digest:
    """Pull `reference` into a new OCI layout at `layout_dir`; returns the manifest digest.

    For an index (or Docker manifest list) the manifest for `platform` is taken. Every blob
    is verified before the layout is renamed into place; on any failure no layout is left.
    Raises `LayoutError` when `layout_dir` is in the way, `ManifestError` when the platform is
    missing, `DigestMismatchError` for content that does not match its digest, or another
    `RegistryError` naming the reference.
    """
    ref = as_reference(reference)
    try:
        wanted = Platform.parse(platform)
    except OciError as e:
        raise ManifestError(str(e)) from e
    check_free(layout_dir)
    client = RegistryClient(ref, push=False, options=options)
    fetched = client.get_manifest(ref.target)
    chosen: Platform | None = None
    if not isinstance(fetched.parsed, Manifest):
        entry = _select(fetched.parsed, wanted, ref)
        chosen = entry.platform
        fetched = client.get_manifest(entry.digest)
    image = _image_of(fetched, ref)
    blobs = tuple(dict.fromkeys(image.blobs))
    with (
        staged(layout_dir) as root,
        progress.step(f"pull {ref}", total=sum(b.size for b in blobs)) as shown,
    ):
        for blob in blobs:
            client.get_blob(blob, blob_path(root, blob.digest))
            shown.advance(blob.size)
        blob_path(root, fetched.digest).write_bytes(fetched.data)
        write_entries(root, [_entry(fetched, ref, chosen)])
    return fetched.digest


def _select(index: Index, wanted: Platform, ref: Reference) -> Descriptor:
    """The index entry for `wanted`; raises `ManifestError` listing what the index offers."""
    try:
        return index.select(wanted, str(ref))
    except OciError as e:
        raise ManifestError(str(e)) from e


def _image_of(fetched: FetchedManifest, ref: Reference) -> Manifest:
    if not isinstance(fetched.parsed, Manifest):
        raise ManifestError(
            f"{ref}: index entry {fetched.digest} is itself an index; imagekit follows one level"
        )
    return fetched.parsed


def _entry(fetched: FetchedManifest, ref: Reference, platform: Platform | None) -> Descriptor:
    annotations = {SOURCE_ANNOTATION: f"{ref.registry}/{ref.repository}"}
    if ref.tag:
        annotations[REF_NAME] = ref.tag
    return Descriptor(
        media_type=fetched.media_type,
        digest=fetched.digest,
        size=len(fetched.data),
        platform=platform,
        annotations=tuple(sorted(annotations.items())),
    )
