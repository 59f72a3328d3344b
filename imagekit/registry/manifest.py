"""OCI and Docker v2 schema 2 manifests and indexes, parsed into frozen dataclasses.

The bytes a manifest was read from stay the truth (its digest is theirs): these classes are
for walking what a manifest points at, never for re-serialising it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagekit.errors import InputError
from imagekit.limits import load_json, shown
from imagekit.registry.errors import InvalidReferenceError, ManifestError
from imagekit.registry.reference import Digest, parse_digest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST))
REF_NAME = "org.opencontainers.image.ref.name"


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
        """Raises `ManifestError` for text that is not os/arch[/variant]."""
        parts = text.split("/")
        if len(parts) not in {2, 3} or not all(parts):
            raise ManifestError(f"platform {shown(text)!r} is not os/architecture[/variant]")
        return cls(
            os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else None
        )

    def matches(self, offered: Platform) -> bool:
        """Whether `offered` serves a request for this platform (any variant, unless named)."""
        same = (self.os, self.architecture) == (offered.os, offered.architecture)
        return same and (self.variant is None or self.variant == offered.variant)


@dataclass(frozen=True, slots=True, kw_only=True)
class Descriptor:
    """A pointer to content: media type, digest, size, and (in an index) platform."""

    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()

    def annotation(self, key: str) -> str | None:
        return next((v for k, v in self.annotations if k == key), None)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Descriptor:
        """Raises `ManifestError` naming `where` for a field of the wrong type."""
        if not isinstance(data, dict):
            raise ManifestError(f"{where}: a descriptor must be an object")
        try:
            digest = parse_digest(_str(data, "digest", where), f"{where}.digest")
        except InvalidReferenceError as e:
            raise ManifestError(str(e)) from e
        return cls(
            media_type=_str(data, "mediaType", where),
            digest=digest,
            size=_size(data, where),
            platform=_platform(data.get("platform"), where),
            annotations=_annotations(data.get("annotations"), where),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.platform:
            out["platform"] = {"os": self.platform.os, "architecture": self.platform.architecture}
            if self.platform.variant:
                out["platform"]["variant"] = self.platform.variant
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageManifest:
    """One platform's image: its config blob and its layers, base first."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        return (self.config, *self.layers)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageIndex:
    """Several manifests (usually one per platform)."""

    media_type: str
    manifests: tuple[Descriptor, ...]

    def select(self, platform: Platform, where: str) -> Descriptor:
        """The first manifest for `platform`; raises `ManifestError` listing what is offered."""
        for entry in self.manifests:
            if entry.platform and platform.matches(entry.platform):
                return entry
        offered = sorted({shown(m.platform) for m in self.manifests if m.platform}) or ["none"]
        raise ManifestError(
            f"{where}: no image for platform {platform}; the index offers "
            f"{', '.join(offered)} (choose one with --platform)"
        )


def parse_manifest(data: bytes, media_type: str | None, where: str) -> ImageManifest | ImageIndex:
    """Parse a manifest or index; the body's `mediaType` wins over the transport's.

    Raises `ManifestError` naming `where` for malformed JSON or an unsupported media type; JSON
    nested or sized past `imagekit.limits`' bounds is malformed too.
    """
    try:
        document = load_json(data, where)
    except InputError as e:
        raise ManifestError(f"{where}: not a JSON manifest ({e.message})") from e
    if not isinstance(document, dict):
        raise ManifestError(f"{where}: a manifest must be a JSON object")
    kind = document.get("mediaType") or _bare_type(media_type, document)
    if not isinstance(kind, str | None):
        raise ManifestError(f"{where}: 'mediaType' must be a string")
    if kind in INDEX_TYPES:
        entries = _list(document, "manifests", where)
        manifests = tuple(
            Descriptor.from_dict(e, f"{where}: manifests[{i}]") for i, e in enumerate(entries)
        )
        return ImageIndex(media_type=kind, manifests=manifests)
    if kind in IMAGE_TYPES:
        config = Descriptor.from_dict(document.get("config"), f"{where}: config")
        layers = _list(document, "layers", where)
        return ImageManifest(
            media_type=kind,
            config=config,
            layers=tuple(
                Descriptor.from_dict(e, f"{where}: layers[{i}]") for i, e in enumerate(layers)
            ),
        )
    raise ManifestError(
        f"{where}: unsupported manifest type {shown(repr(kind))} (imagekit reads OCI image "
        "manifests and indexes, and Docker v2 schema 2 manifests and lists)"
    )


def _bare_type(media_type: str | None, document: dict[str, Any]) -> str | None:
    """An OCI manifest may leave out `mediaType`: take the transport's, or infer it."""
    header = (media_type or "").split(";")[0].strip()
    if header in IMAGE_TYPES | INDEX_TYPES:
        return header
    if "manifests" in document:
        return OCI_INDEX
    return OCI_MANIFEST if "config" in document else header or None


def _str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: {key!r} must be a non-empty string")
    return value


def _size(data: dict[str, Any], where: str) -> int:
    value = data.get("size")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ManifestError(f"{where}: 'size' must be a non-negative integer")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ManifestError(f"{where}: {key!r} must be an array")
    return value


def _platform(data: Any, where: str) -> Platform | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: 'platform' must be an object")
    variant = data.get("variant")
    return Platform(
        os=_str(data, "os", f"{where}.platform"),
        architecture=_str(data, "architecture", f"{where}.platform"),
        variant=variant if isinstance(variant, str) and variant else None,
    )


def _annotations(data: Any, where: str) -> tuple[tuple[str, str], ...]:
    if data is None:
        return ()
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ManifestError(f"{where}: 'annotations' must map strings to strings")
    return tuple(sorted((str(k), v) for k, v in data.items()))
