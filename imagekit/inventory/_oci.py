"""An OCI image layout directory: index.json -> manifest -> config and layer blobs.

Every blob is checked against its descriptor's digest and size while it is read. Nested image
indexes are followed to `MAX_INDEX_DEPTH` levels, each index once however often it is named
(a layout of indexes that each name the next one twice would otherwise take 2^depth reads),
and at most `MAX_DESCRIPTORS` descriptors are read from all of them together.
"""

from __future__ import annotations

import io
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagekit.inventory._streams import CHUNK, HashingReader, check_digest, read_at_most
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import (
    ImageConfig,
    LayerStream,
    LayerVisitor,
    SourceKind,
    annotations_of,
    parse_config,
)
from imagekit.limits import shown

_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
_MAX_JSON_BLOB = 16 << 20  # manifests and configs are kilobytes; refuse to load a huge one
_REF_NAME = "org.opencontainers.image.ref.name"
# buildx and `docker save` nest one index in index.json (index.json -> index -> manifests).
MAX_INDEX_DEPTH = 8
# A multi-platform image names a dozen manifests and as many attestations.
MAX_DESCRIPTORS = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class _Descriptor:
    media_type: str
    digest: str
    size: int
    platform: str | None
    annotations: dict[str, str]


def _descriptor(value: object, where: str) -> _Descriptor:
    if not isinstance(value, dict):
        raise InventoryError(f"{where}: a descriptor must be a JSON object")
    digest, size = value.get("digest"), value.get("size")
    if not isinstance(digest, str) or not isinstance(size, int) or isinstance(size, bool):
        raise InventoryError(f"{where}: a descriptor needs a string digest and an integer size")
    check_digest(digest, where)
    plat = value.get("platform")
    name = None
    if isinstance(plat, dict) and plat.get("os") and plat.get("architecture"):
        name = f"{plat['os']}/{plat['architecture']}"
        if plat.get("variant"):
            name += f"/{plat['variant']}"
    notes = value.get("annotations")
    return _Descriptor(
        media_type=str(value.get("mediaType") or ""),
        digest=digest,
        size=size,
        platform=name,
        annotations={str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {},
    )


def _descriptors(doc: dict[str, Any], key: str, where: str) -> list[_Descriptor]:
    items = doc.get(key)
    if not isinstance(items, list):
        raise InventoryError(f"{where}: no {key!r} list")
    return [_descriptor(item, f"{where}: {key}[{i}]") for i, item in enumerate(items)]


@dataclass(slots=True)
class _IndexWalk:
    """What following the indexes of one image has seen so far."""

    where: str  # the layout or archive, for messages
    read: Callable[[_Descriptor], bytes | None]  # a blob's bytes, checked; None: not held
    found: dict[str, _Descriptor] = field(default_factory=dict)  # manifests, by digest, in order
    expanded: set[str] = field(default_factory=set)  # digests of the indexes already followed
    descriptors: int = 0


def image_manifests(
    index: dict[str, Any],
    where: str,
    read: Callable[[_Descriptor], bytes | None],
    *,
    ref_name: str | None = None,
) -> list[_Descriptor]:
    """The image manifests the top index (index.json) names, nested indexes flattened: each
    index followed once, to `MAX_INDEX_DEPTH` levels, `MAX_DESCRIPTORS` in all; attestation
    manifests left out. `ref_name` filters the top index's entries by their ref name; an
    index `read` does not hold (None) is passed over.

    Raises `InventoryError` (naming `where`) past a bound, or for a blob `read` cannot give.
    """
    walk = _IndexWalk(where=where, read=read)
    _follow(index, "index.json", walk, 0, ref_name)
    return list(walk.found.values())


def _follow(
    index: dict[str, Any], name: str, walk: _IndexWalk, depth: int, ref_name: str | None
) -> None:
    items = index.get("manifests")
    walk.descriptors += len(items) if isinstance(items, list) else 0
    if walk.descriptors > MAX_DESCRIPTORS:
        raise InventoryError(
            f"{walk.where}: its indexes name more than {MAX_DESCRIPTORS} descriptors "
            "(MAX_DESCRIPTORS); no real image has this many: it is malformed or hostile"
        )
    for desc in _descriptors(index, "manifests", name):
        if depth == 0 and ref_name and desc.annotations.get(_REF_NAME) != ref_name:
            continue
        if desc.media_type in _INDEX_TYPES:
            if desc.digest in walk.expanded:
                continue
            walk.expanded.add(desc.digest)
            if depth + 1 > MAX_INDEX_DEPTH:
                raise InventoryError(
                    f"{walk.where}: image indexes nested deeper than {MAX_INDEX_DEPTH} levels "
                    f"(MAX_INDEX_DEPTH) at index {desc.digest}; it is malformed or hostile"
                )
            data = walk.read(desc)
            if data is not None:
                nested = parse_config(data, f"index {desc.digest}")
                _follow(nested, f"index {desc.digest}", walk, depth + 1, None)
        elif desc.annotations.get("vnd.docker.reference.type") != "attestation-manifest":
            walk.found.setdefault(desc.digest, desc)


Descriptor = _Descriptor  # what `image_manifests` gives, for the archive reader


def host_platform_name() -> str:
    """This machine's platform in OCI terms ("linux/amd64"), the default to pick from an index."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return f"linux/{arch}"


def _matches(candidate: str, wanted: str) -> bool:
    """linux/arm64 matches linux/arm64/v8; linux/amd64 matches linux/amd64 only."""
    return candidate == wanted or candidate.startswith(wanted + "/")


@dataclass(frozen=True, slots=True, kw_only=True)
class OciLayoutSource:
    path: Path
    platform: str | None = None  # "linux/amd64"; default: the only image, else this host's
    ref_name: str | None = None  # org.opencontainers.image.ref.name, when index.json holds many

    @property
    def kind(self) -> SourceKind:
        return SourceKind.OCI_LAYOUT

    @property
    def reference(self) -> str:
        return str(self.path)

    def read(self, visit: LayerVisitor) -> ImageConfig:
        """Visit the chosen manifest's layers in order and return its config.

        Raises `InventoryError` for a missing or corrupt blob, or no manifest for the platform.
        """
        index = parse_config(self._read_file("index.json"), f"{self.path}/index.json")
        chosen = self._choose(self._manifests(index, "index.json"))
        where = f"manifest {chosen.digest}"
        manifest = parse_config(self._read_blob(chosen), where)
        config_desc = _descriptor(manifest.get("config"), f"{where}: config")
        raw = parse_config(self._read_blob(config_desc), f"config {config_desc.digest}")
        for layer in _descriptors(manifest, "layers", where):
            self._visit_blob(layer, visit)
        return ImageConfig(
            raw=raw,
            digest=config_desc.digest,
            manifest_digest=chosen.digest,
            annotations={**annotations_of(manifest), **chosen.annotations},
        )

    def _read_file(self, name: str) -> bytes:
        try:
            return (self.path / name).read_bytes()
        except OSError as e:
            raise InventoryError(f"{self.path}/{name}: cannot be read ({e.strerror})") from e

    def _blob_path(self, desc: _Descriptor) -> Path:
        algo, hexdigest = check_digest(desc.digest, str(self.path))
        path = self.path / "blobs" / algo / hexdigest
        if not path.is_file():
            raise InventoryError(
                f"{self.path}: blob {desc.digest} is missing from blobs/{algo}/ "
                "(copy the whole layout again)"
            )
        return path

    def _read_blob(self, desc: _Descriptor) -> bytes:
        """A small JSON blob, checked against its digest and size."""
        if desc.size > _MAX_JSON_BLOB:
            raise InventoryError(f"{self.path}: blob {desc.digest} is too large for a manifest")
        with self._blob_path(desc).open("rb") as f:
            reader = HashingReader(f, desc.digest.partition(":")[0])
            data = read_at_most(io.BufferedReader(reader), desc.size)
            reader.verify(desc.digest, f"{self.path}: blob {desc.digest}", desc.size)
        return data or b""

    def _visit_blob(self, desc: _Descriptor, visit: LayerVisitor) -> None:
        name = f"blobs/{desc.digest.replace(':', '/')}"
        with self._blob_path(desc).open("rb") as f:
            reader = HashingReader(f, desc.digest.partition(":")[0])
            stream = io.BufferedReader(reader, CHUNK)
            visit(LayerStream(name=name, media_type=desc.media_type, stream=stream))
            reader.verify(desc.digest, f"{self.path}: {name}", desc.size)

    def _manifests(self, index: dict[str, Any], where: str) -> list[_Descriptor]:
        """The image manifests index.json names, nested indexes flattened."""
        return image_manifests(index, str(self.path), self._read_blob, ref_name=self.ref_name)

    def _platform_of(self, desc: _Descriptor) -> str:
        if desc.platform:
            return desc.platform
        manifest = parse_config(self._read_blob(desc), f"manifest {desc.digest}")
        config = parse_config(
            self._read_blob(_descriptor(manifest.get("config"), f"manifest {desc.digest}")),
            f"manifest {desc.digest}: config",
        )
        return f"{config.get('os', 'unknown')}/{config.get('architecture', 'unknown')}"

    def _choose(self, manifests: list[_Descriptor]) -> _Descriptor:
        if not manifests:
            named = f" named '{shown(self.ref_name)}'" if self.ref_name else ""
            raise InventoryError(f"{self.path}: index.json lists no image manifest{named}")
        if self.platform is None and len(manifests) == 1:
            return manifests[0]
        wanted = self.platform or host_platform_name()
        platforms = [(self._platform_of(m), m) for m in manifests]
        for name, desc in platforms:
            if _matches(name, wanted):
                return desc
        listed = shown(", ".join(sorted({name for name, _ in platforms})))
        raise InventoryError(
            f"{self.path}: no manifest for platform {wanted} (it has {listed}): pass --platform"
        )
