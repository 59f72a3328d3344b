"""Push an OCI image layout to a registry: blobs first (skipped or mounted when possible),
then the manifests, children of an index before the index itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imagekit import progress
from imagekit.image.digest import Digest
from imagekit.image.layout import blob_path
from imagekit.image.model import Descriptor, Index
from imagekit.registry.client import ClientOptions, RegistryClient, Transfer
from imagekit.registry.errors import DigestMismatchError, LayoutError
from imagekit.registry.layout import SOURCE_ANNOTATION, pick_manifest, read_entries, read_image
from imagekit.registry.reference import Reference, as_reference


@dataclass(frozen=True, slots=True, kw_only=True)
class PushResult:
    """What a push did: the manifest digest, and how each blob got there."""

    reference: Reference  # as pushed, with the manifest digest
    digest: Digest
    uploaded: tuple[Digest, ...]
    mounted: tuple[Digest, ...]
    existing: tuple[Digest, ...]


def push_layout(
    layout_dir: Path,
    reference: Reference | str,
    *,
    mount_from: str | None = None,
    options: ClientOptions | None = None,
) -> PushResult:
    """Push the layout's image (the entry tagged like `reference`, or its only one).

    Blobs the repository has are skipped; others are mounted from `mount_from` (a repository
    on the same registry; by default the one the layout was pulled from, when that is the
    same registry) or uploaded. The manifest goes up under the tag, or by digest when the
    reference has none. Raises `LayoutError`, `DigestMismatchError`, or another
    `RegistryError` naming the reference.
    """
    ref = as_reference(reference)
    entry = pick_manifest(read_entries(layout_dir), ref.tag, layout_dir)
    if ref.digest and ref.digest != entry.digest:
        raise DigestMismatchError(
            f"{ref}: the layout {layout_dir} holds manifest {entry.digest}; push without "
            "@digest, or with that one"
        )
    pusher = _Pusher(
        root=layout_dir,
        client=RegistryClient(ref, push=True, options=options),
        mount_from=mount_from or _source_repository(entry, ref),
    )
    with progress.step(f"push {ref}"):
        pusher.manifest(entry, ref.tag or entry.digest)
    done = pusher.done
    return PushResult(
        reference=Reference(
            registry=ref.registry, repository=ref.repository, tag=ref.tag, digest=entry.digest
        ),
        digest=entry.digest,
        uploaded=tuple(d for d, t in done.items() if t is Transfer.UPLOADED),
        mounted=tuple(d for d, t in done.items() if t is Transfer.MOUNTED),
        existing=tuple(d for d, t in done.items() if t is Transfer.EXISTS),
    )


def _source_repository(entry: Descriptor, ref: Reference) -> str | None:
    """The repository the layout was pulled from, when it is on `ref`'s registry."""
    registry, _, repository = (entry.annotation(SOURCE_ANNOTATION) or "").partition("/")
    same = registry == ref.registry and repository and repository != ref.repository
    return repository if same else None


@dataclass(slots=True, kw_only=True)
class _Pusher:
    root: Path
    client: RegistryClient
    mount_from: str | None
    done: dict[Digest, Transfer] = field(default_factory=dict)

    def manifest(self, entry: Descriptor, target: str) -> None:
        data, parsed = read_image(self.root, entry)
        if isinstance(parsed, Index):
            for child in parsed.manifests:
                self.manifest(child, child.digest)
        else:
            for blob in parsed.blobs:
                self.blob(blob)
        self.client.put_manifest(data, parsed.media_type, target)

    def blob(self, blob: Descriptor) -> None:
        if blob.digest in self.done:
            return
        path = blob_path(self.root, blob.digest)
        if not path.is_file():
            raise LayoutError(f"{self.root}: blob {blob.digest} is missing; the layout is partial")
        if self.client.blob_exists(blob.digest):
            self.done[blob.digest] = Transfer.EXISTS
        else:
            self.done[blob.digest] = self.client.upload_blob(path, blob, mount_from=self.mount_from)
        progress.advance(blob.size)
