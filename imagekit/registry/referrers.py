"""SBOMs and provenance attached to an image in its registry, and found again from the image.

Each document goes up as an OCI 1.1 artifact (image spec `manifest.md`): a manifest whose
`artifactType` says what it holds, whose config is the empty descriptor, whose one layer is the
document, and whose `subject` is the image's manifest. A registry with the referrers API
answers the push with `OCI-Subject` and lists it at `GET /v2/<name>/referrers/<digest>`; for one
without (Debian's docker-registry 2.8), the client keeps the list itself, under the referrers
tag schema (distribution spec 1.1): the tag `sha256-<hex>` of the subject holds an image index
of its referrers, read, extended and put back, never overwritten with less. Registries without
conditional requests cannot make that update atomic: two clients attaching to one image at the
same moment may lose one entry, as with every client of the tag schema.

Everything read back is checked: the list must be an OCI image index, each artifact manifest
must hash to its digest and name the image as its subject, and each document its digest.
"""

from __future__ import annotations

import enum
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imagekit.errors import InputError
from imagekit.image.digest import Digest, digest_of, stream_digest
from imagekit.image.errors import OciError
from imagekit.image.model import (
    INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Descriptor,
    Index,
    Manifest,
    canonical_json,
    parse_manifest,
)
from imagekit.limits import MAX_SBOM_DOCUMENT, load_json, shown
from imagekit.registry.client import ClientOptions, FetchedManifest, RegistryClient
from imagekit.registry.errors import ManifestError
from imagekit.registry.reference import Reference, as_reference
from imagekit.registry.session import Reply

EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_DATA = b"{}"  # the empty descriptor's content (image spec `manifest.md`)
TITLE = "org.opencontainers.image.title"
IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1"


class ArtifactKind(enum.StrEnum):
    """What an attached document is; the value is its `artifactType` and layer media type."""

    CYCLONEDX = "application/vnd.cyclonedx+json"
    SPDX = "application/spdx+json"
    PROVENANCE = "application/vnd.in-toto+json"

    @property
    def is_sbom(self) -> bool:
        return self is not ArtifactKind.PROVENANCE


@dataclass(frozen=True, slots=True, kw_only=True)
class Referrers:
    """The artifacts that name an image as their subject, and where their list was read."""

    subject: Digest
    entries: tuple[Descriptor, ...]
    via_api: bool  # the registry's referrers API, else the referrers tag


@dataclass(frozen=True, slots=True, kw_only=True)
class Attached:
    """One document attached to an image: the artifact manifest and how it is listed."""

    kind: ArtifactKind
    digest: Digest  # the artifact manifest's
    subject: Digest  # the image's manifest
    via_api: bool  # listed by the registry's referrers API, else under the referrers tag


def kind_of(path: Path) -> ArtifactKind:
    """What the JSON document at `path` is: a CycloneDX or SPDX SBOM, or an in-toto statement.

    Raises `InputError` naming the file when it is none of them or cannot be read.
    """
    try:
        document = load_json(path.read_bytes(), path, max_bytes=MAX_SBOM_DOCUMENT)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}", "check the path") from e
    if isinstance(document, dict):
        if document.get("bomFormat") == "CycloneDX":
            return ArtifactKind.CYCLONEDX
        if isinstance(document.get("spdxVersion"), str):
            return ArtifactKind.SPDX
        if document.get("_type") == IN_TOTO_STATEMENT:
            return ArtifactKind.PROVENANCE
    raise InputError(
        path,
        "not a CycloneDX or SPDX JSON SBOM, nor an in-toto v1 statement",
        "attach the sbom.cdx.json or provenance.json that `imagekit build` wrote",
    )


def referrers_tag(digest: Digest) -> str:
    """The referrers tag schema's tag for `digest`: `<alg>-<hex>` (distribution spec 1.1)."""
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}-{encoded}"[:128]


def attach(
    reference: Reference | str, document: Path, *, options: ClientOptions | None = None
) -> Attached:
    """Attach the SBOM or provenance at `document` to the image `reference` names.

    Raises `InputError` for a document of another kind, `ManifestError` when the referrers tag
    holds something that is not an image index (it is left alone), or another `RegistryError`.
    """
    kind = kind_of(document)
    client = RegistryClient(as_reference(reference), push=True, options=options)
    subject = _subject(client)
    layer = _layer(document, kind)
    empty = Descriptor(media_type=EMPTY_MEDIA_TYPE, digest=digest_of(EMPTY_DATA), size=2)
    _upload(client, empty, EMPTY_DATA)
    if not client.blob_exists(layer.digest):
        client.upload_blob(document, layer)
    manifest = Manifest(config=empty, layers=(layer,), artifact_type=kind.value, subject=subject)
    data = canonical_json(manifest.to_dict())
    digest, via_api = client.put_referrer(data, MANIFEST_MEDIA_TYPE)
    if not via_api:
        entry = Descriptor(
            media_type=MANIFEST_MEDIA_TYPE, digest=digest, size=len(data), artifact_type=kind.value
        )
        _add_to_tag(client, subject.digest, entry)
    return Attached(kind=kind, digest=digest, subject=subject.digest, via_api=via_api)


def _layer(document: Path, kind: ArtifactKind) -> Descriptor:
    """The artifact's one layer: the document, by the digest and size it has now (the upload
    and the registry check both, should it change before it is sent)."""
    try:
        with document.open("rb") as stream:
            digest, size = stream_digest(stream)
    except OSError as e:
        raise InputError(document, f"cannot read: {e.strerror or e}", "check the path") from e
    return Descriptor(
        media_type=kind.value, digest=digest, size=size, annotations=((TITLE, document.name),)
    )


def _upload(client: RegistryClient, blob: Descriptor, data: bytes) -> None:
    if client.blob_exists(blob.digest):
        return
    with tempfile.TemporaryDirectory(prefix="imagekit-attach-") as tmp:
        path = Path(tmp) / "blob"
        path.write_bytes(data)
        client.upload_blob(path, blob)


def _subject(client: RegistryClient) -> Descriptor:
    """The descriptor of the image the client's reference names (by tag or digest)."""
    image = client.get_manifest(client.reference.target)
    return Descriptor(media_type=image.media_type, digest=image.digest, size=len(image.data))


def _add_to_tag(client: RegistryClient, subject: Digest, entry: Descriptor) -> None:
    """Add `entry` to the index under the subject's referrers tag, keeping every entry there."""
    tag = referrers_tag(subject)
    current = _tag_index(client, subject)
    if any(m.digest == entry.digest for m in current.manifests):
        return
    index = Index(manifests=(*current.manifests, entry))
    client.put_manifest(canonical_json(index.to_dict()), INDEX_MEDIA_TYPE, tag)


def _tag_index(client: RegistryClient, subject: Digest) -> Index:
    """The index under the referrers tag (empty when there is none yet)."""
    tag = referrers_tag(subject)
    fetched = client.find_manifest(tag)
    if fetched is None:
        return Index(manifests=())
    return _referrers_index(fetched.parsed, fetched.media_type, f"{client.reference} tag {tag}")


def _referrers_index(parsed: Manifest | Index, media_type: str, where: str) -> Index:
    if not isinstance(parsed, Index) or media_type != INDEX_MEDIA_TYPE:
        raise ManifestError(
            f"{where}: holds {shown(media_type)}, not an OCI image index of referrers; "
            "refused (delete that tag, or attach to another image)"
        )
    return parsed


def list_referrers(
    reference: Reference | str, *, options: ClientOptions | None = None
) -> Referrers:
    """The artifacts that name the image `reference` names as their subject.

    From the referrers API where the registry has one (every page of it), else from the
    referrers tag. Raises `ManifestError` for a
    list that is not an OCI image index, or another `RegistryError`.
    """
    client = RegistryClient(as_reference(reference), push=False, options=options)
    subject = _subject(client).digest
    pages = client.get_referrers(subject)
    if pages is None:
        return Referrers(
            subject=subject, entries=_tag_index(client, subject).manifests, via_api=False
        )
    where = f"{client.reference}: the referrers of {subject}"
    entries = tuple(m for page in pages for m in _api_index(page, where).manifests)
    return Referrers(subject=subject, entries=entries, via_api=True)


def _api_index(reply: Reply, where: str) -> Index:
    media_type = (reply.header("Content-Type") or "").split(";")[0].strip()
    try:
        parsed = parse_manifest(reply.body, media_type, where)
    except OciError as e:
        raise ManifestError(str(e)) from e
    return _referrers_index(parsed, media_type, where)


def fetch_document(
    reference: Reference | str,
    kinds: frozenset[ArtifactKind],
    dest: Path,
    *,
    options: ClientOptions | None = None,
) -> Attached:
    """Write the last listed document of one of `kinds` to `dest`, verified by its digest.

    Raises `ManifestError` when none is attached or an artifact does not name the image as its
    subject, `DigestMismatchError` for content that does not match its digest, or another
    `RegistryError`; nothing is left at `dest` then.
    """
    ref = as_reference(reference)
    found = list_referrers(ref, options=options)
    client = RegistryClient(ref, push=False, options=options)
    for entry in reversed(found.entries):  # the tag's index grows at its end: newest first
        if entry.artifact_type in kinds:
            kind = ArtifactKind(entry.artifact_type)
            layer = _document_layer(client.get_manifest(entry.digest), found.subject, kind)
            client.get_blob(layer, dest)
            return Attached(
                kind=kind, digest=entry.digest, subject=found.subject, via_api=found.via_api
            )
    wanted = " or ".join(sorted(k.value for k in kinds))
    raise ManifestError(
        f"{ref}: no {wanted} is attached to image {found.subject} ({len(found.entries)} "
        "artifacts are); "
        "attach one with `imagekit attach`"
    )


def _document_layer(fetched: FetchedManifest, subject: Digest, kind: ArtifactKind) -> Descriptor:
    """The one layer of an artifact manifest about `subject` holding a `kind` document."""
    where = f"artifact {fetched.digest}"
    artifact = fetched.parsed
    if not isinstance(artifact, Manifest) or artifact.subject is None:
        raise ManifestError(f"{where}: not an artifact manifest with a subject; refused")
    if artifact.subject.digest != subject:
        raise ManifestError(
            f"{where}: its subject is {artifact.subject.digest}, not the image {subject}; refused"
        )
    layers = [layer for layer in artifact.layers if layer.media_type == kind.value]
    if artifact.artifact_type != kind.value or len(layers) != 1:
        raise ManifestError(f"{where}: does not hold exactly one {kind.value} document; refused")
    return layers[0]
