"""The OCI image format as frozen values: platforms, descriptors, manifests, indexes, images.

Each is parsed from its JSON at the boundary (`parse_json`, bounded in size and depth, then
`from_dict`, which checks every type it reads and names the field) and written back with
`to_dict`; `canonical_json` gives the bytes whose sha256 is the blob's digest (sorted keys, no
spaces), so the same values always give the same digests; the image config is `config`'s.
Bytes read from elsewhere (a registry, a layout) stay the truth for their digest: they are
walked, never re-serialised.
Every error is an `OciError` naming the file and field.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from imagekit.errors import InputError
from imagekit.image._fields import array, as_object, str_map, text
from imagekit.image.config import ImageConfig
from imagekit.image.digest import READ_ALGORITHMS, Digest, parse_digest
from imagekit.image.errors import OciError
from imagekit.limits import load_json, shown

INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_TYPES = frozenset({MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({INDEX_MEDIA_TYPE, DOCKER_LIST})
ACCEPT = ", ".join((MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, DOCKER_MANIFEST, DOCKER_LIST))
REF_NAME = "org.opencontainers.image.ref.name"
# BuildKit lists the attestations of an image in its index beside the images themselves.
REFERENCE_TYPE = "vnd.docker.reference.type"
ATTESTATION = "attestation-manifest"


class Compression(enum.StrEnum):
    GZIP = "gzip"
    ZSTD = "zstd"

    @property
    def media_type(self) -> str:
        return f"{LAYER_TAR}+{self.value}"


def canonical_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(data: bytes, where: str) -> dict[str, Any]:
    """A JSON object read from an untrusted file or blob, bounded in size and nesting
    (`imagekit.limits.load_json`); raises `OciError` naming `where`."""
    try:
        value = load_json(data, where)
    except InputError as e:
        raise OciError(str(e)) from e
    if not isinstance(value, dict):
        raise OciError(f"{where}: not a JSON object")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    """`os/architecture[/variant]`, e.g. linux/amd64 or linux/arm64/v8."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Raises `OciError` for text that is not os/arch[/variant]."""
        parts = text.split("/")
        if len(parts) not in {2, 3} or not all(parts):
            raise OciError(f"platform {shown(text)!r} is not os/architecture[/variant]")
        return cls(
            os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else None
        )

    def matches(self, offered: Platform) -> bool:
        """Whether `offered` serves a request for this platform (any variant, unless named)."""
        same = (self.os, self.architecture) == (offered.os, offered.architecture)
        return same and (self.variant is None or self.variant == offered.variant)

    def to_dict(self) -> dict[str, str]:
        d = {"os": self.os, "architecture": self.architecture}
        return d | ({"variant": self.variant} if self.variant else {})

    @classmethod
    def from_dict(cls, d: object, where: str) -> Platform:
        d = as_object(d, where)
        variant = d.get("variant")
        return cls(
            os=text(d, "os", where),
            architecture=text(d, "architecture", where),
            variant=variant if isinstance(variant, str) and variant else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Descriptor:
    """A pointer to content: media type, digest, size, and (in an index) platform.

    `artifact_type` is set on the entries of a referrers list (OCI image spec 1.1).
    """

    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    artifact_type: str | None = None

    def annotation(self, key: str) -> str | None:
        return next((v for k, v in self.annotations if k == key), None)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            d["platform"] = self.platform.to_dict()
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        return d

    @classmethod
    def from_dict(cls, d: object, where: str) -> Descriptor:
        """Raises `OciError` naming `where` and the field that is wrong.

        A sha512 digest is accepted: a layout made elsewhere may use one.
        """
        if not isinstance(d, dict):
            raise OciError(f"{where}: a descriptor must be an object")
        digest = parse_digest(
            text(d, "digest", where), f"{where}.digest", algorithms=READ_ALGORITHMS
        )
        size = d.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise OciError(f"{where}: 'size' must be a non-negative integer")
        platform, media_type = d.get("platform"), d.get("mediaType", "")
        if not isinstance(media_type, str):  # left out by some writers: an index entry's is
            raise OciError(f"{where}: 'mediaType' must be a string")  # the manifest's own
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            platform=None
            if platform is None
            else Platform.from_dict(platform, f"{where}.platform"),
            annotations=str_map(d, "annotations", where),
            artifact_type=_optional_text(d, "artifactType", where),
        )


def _optional_text(d: dict[str, Any], key: str, where: str) -> str | None:
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise OciError(f"{where}: {key!r} must be a string")
    return value or None


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerBlob:
    """A layer blob: its descriptor (compressed digest) and its diff id (uncompressed)."""

    descriptor: Descriptor
    diff_id: Digest


def _descriptors(d: dict[str, Any], key: str, where: str) -> tuple[Descriptor, ...]:
    items = array(d, key, where)
    return tuple(Descriptor.from_dict(x, f"{where}: {key}[{i}]") for i, x in enumerate(items))


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """One platform's image: its config blob and its layers, base first.

    An artifact (an SBOM, an attestation) is a manifest too (OCI image spec 1.1): its
    `artifact_type` says what it holds and its `subject` names the image it is about.
    """

    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()
    media_type: str = MANIFEST_MEDIA_TYPE  # or Docker's v2 schema 2, as a registry serves it
    artifact_type: str | None = None
    subject: Descriptor | None = None

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        return (self.config, *self.layers)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "config": self.config.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
        }
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.subject:
            d["subject"] = self.subject.to_dict()
        return d

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], where: str, media_type: str = MANIFEST_MEDIA_TYPE
    ) -> Manifest:
        return cls(
            config=Descriptor.from_dict(d.get("config"), f"{where}: config"),
            layers=_descriptors(d, "layers", where),
            annotations=str_map(d, "annotations", where),
            media_type=media_type,
            artifact_type=_optional_text(d, "artifactType", where),
            subject=None
            if d.get("subject") is None
            else Descriptor.from_dict(d["subject"], f"{where}: subject"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    """Several manifests (usually one per platform, or one per name in a layout's index.json)."""

    manifests: tuple[Descriptor, ...]
    media_type: str = INDEX_MEDIA_TYPE  # or Docker's manifest list

    def to_dict(self) -> dict[str, Any]:
        return {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "manifests": [m.to_dict() for m in self.manifests],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str, media_type: str = INDEX_MEDIA_TYPE) -> Index:
        return cls(manifests=_descriptors(d, "manifests", where), media_type=media_type)

    def select(self, platform: Platform, where: str) -> Descriptor:
        """The first manifest for `platform`; raises `OciError` listing what is offered."""
        for entry in self.manifests:
            if entry.platform and platform.matches(entry.platform):
                return entry
        offered = sorted({shown(m.platform) for m in self.manifests if m.platform}) or ["none"]
        raise OciError(
            f"{where}: no image for platform {platform}; the index offers "
            f"{', '.join(offered)} (choose one with --platform)"
        )


def parse_manifest(data: bytes, media_type: str | None, where: str) -> Manifest | Index:
    """Parse a manifest or index; the body's `mediaType` wins over the transport's.

    Raises `OciError` naming `where` for malformed JSON or an unsupported media type; JSON
    nested or sized past `imagekit.limits`' bounds is malformed too.
    """
    try:
        document = load_json(data, where)
    except InputError as e:
        raise OciError(f"{where}: not a JSON manifest ({e.message})") from e
    if not isinstance(document, dict):
        raise OciError(f"{where}: a manifest must be a JSON object")
    kind = document.get("mediaType") or _bare_type(media_type, document)
    if not isinstance(kind, str | None):
        raise OciError(f"{where}: 'mediaType' must be a string")
    if kind in INDEX_TYPES:
        return Index.from_dict(document, where, kind)
    if kind in IMAGE_TYPES:
        return Manifest.from_dict(document, where, kind)
    raise OciError(
        f"{where}: unsupported manifest type {shown(repr(kind))} (imagekit reads OCI image "
        "manifests and indexes, and Docker v2 schema 2 manifests and lists)"
    )


def _bare_type(media_type: str | None, document: dict[str, Any]) -> str | None:
    """An OCI manifest may leave out `mediaType`: take the transport's, or infer it."""
    header = (media_type or "").split(";")[0].strip()
    if header in IMAGE_TYPES | INDEX_TYPES:
        return header
    if "manifests" in document:
        return INDEX_MEDIA_TYPE
    return MANIFEST_MEDIA_TYPE if "config" in document else header or None


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """An image read from (or written to) a layout: manifest, config, and layers, base first."""

    manifest: Manifest
    manifest_digest: Digest
    config: ImageConfig
    layers: tuple[LayerBlob, ...]
