"""The layer cache shared through a registry: `imagekit build --cache REF`.

Each cached layer is an OCI artifact in the repository REF, under the tag `layer-<key>` (the
key as in `imagekit.build.oci.cache`, or for a Python layer the key of its locked packages and
target, known before any wheel is fetched). The artifact manifest has `artifactType`
LAYER_CACHE_TYPE, the annotation KEY_ANNOTATION naming its key, a config blob (CacheRecord:
the key, the layer's diff id, and for a Python layer the wheelhouse's requirements.txt and its
wheels) and one layer: the layer blob itself, with the media type and digest it has in the
image, so a later push of the image finds it in the repository and uploads nothing.

Everything read back is checked: the manifest must be that artifact for that key with one
layer of a layer media type, the config small and naming the same key, the blob its digest
and size, and the blob's uncompressed bytes the diff id the record claims. A miss, an auth
failure, an unreachable registry or an entry that fails a check is a warning and the layer is
built; the local cache only gets a blob once it passed every check.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagekit.build.oci.cache import LayerCache
from imagekit.cache.lock import using
from imagekit.errors import ImagekitError
from imagekit.image.compress import open_layer
from imagekit.image.digest import Digest, digest_of, parse_digest, stream_digest
from imagekit.image.model import (
    MANIFEST_MEDIA_TYPE,
    Compression,
    Descriptor,
    LayerBlob,
    Manifest,
    canonical_json,
    parse_json,
)
from imagekit.registry.client import ClientOptions, RegistryClient
from imagekit.registry.errors import InvalidReferenceError, ManifestError
from imagekit.registry.reference import Reference, parse_reference

LAYER_CACHE_TYPE = "application/vnd.imagekit.layer-cache.v1+json"
RECORD_MEDIA_TYPE = "application/vnd.imagekit.layer-cache.record.v1+json"
KEY_ANNOTATION = "io.imagekit.cache.key"
MAX_RECORD = 1 << 20  # a record holds one layer's requirements.txt: far below this
LAYER_MEDIA_TYPES = frozenset(c.media_type for c in Compression)
TAG_PREFIX = "layer-"

Say = Callable[[str], None]


def cache_tag(key: str) -> str:
    return f"{TAG_PREFIX}{key[:64]}"


def cache_reference(text: str) -> Reference:
    """The repository a cache names (`--cache`, `imagekit base push`); raises
    `InvalidReferenceError` for a tag or digest (the cache's tags are its own)."""
    ref = parse_reference(text)
    if ref.digest or ref.tag != "latest" or text.endswith(":latest"):
        raise InvalidReferenceError(
            f"{text}: name a repository (such as {ref.registry}/{ref.repository}), "
            "without a tag or digest: the cache tags each layer and base itself"
        )
    return Reference(registry=ref.registry, repository=ref.repository, tag=None, digest=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedWheel:
    """A wheel a cached Python layer was made from (for the build's provenance)."""

    name: str
    version: str
    filename: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "filename": self.filename,
                "sha256": self.sha256}  # fmt: skip

    @classmethod
    def from_dict(cls, d: object, where: str) -> CachedWheel:
        if not isinstance(d, dict) or not all(
            isinstance(d.get(k), str) for k in ("name", "version", "filename", "sha256")
        ):
            raise ManifestError(f"{where}: a wheel needs name, version, filename and sha256")
        return cls(name=d["name"], version=d["version"], filename=d["filename"],
                   sha256=d["sha256"])  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheRecord:
    """The config of a layer-cache artifact: what the layer is and was made from."""

    key: str
    diff_id: Digest
    requirements: str | None = None  # a Python layer's requirements.txt
    wheels: tuple[CachedWheel, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "diff_id": self.diff_id,
            "requirements": self.requirements,
            "wheels": [w.to_dict() for w in self.wheels],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> CacheRecord:
        key, requirements, wheels = d.get("key"), d.get("requirements"), d.get("wheels", [])
        if not isinstance(key, str) or not isinstance(requirements, str | None):
            raise ManifestError(f"{where}: key must be a string, requirements a string or null")
        if not isinstance(wheels, list):
            raise ManifestError(f"{where}: wheels must be a list")
        return cls(
            key=key,
            diff_id=parse_digest(d.get("diff_id"), f"{where}: diff_id"),
            requirements=requirements,
            wheels=tuple(CachedWheel.from_dict(w, f"{where}: wheels") for w in wheels),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Alias:
    key: str
    requirements: str
    wheels: tuple[CachedWheel, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Found:
    record: CacheRecord
    layer: Descriptor


@dataclass(slots=True, kw_only=True)
class RegistryCache:
    """The layer cache in the repository `reference`; counts what it found and shared.

    Every method turns a registry or content problem into a line for `say` and carries on.
    """

    reference: Reference
    say: Say
    options: ClientOptions | None = None
    found: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    _built: dict[str, tuple[LayerBlob, CacheRecord]] = field(default_factory=dict)
    _aliases: dict[str, _Alias] = field(default_factory=dict)
    _client: RegistryClient | None = None

    @property
    def client(self) -> RegistryClient:
        if self._client is None:
            self._client = RegistryClient(self.reference, push=True, options=self.options)
        return self._client

    # -- reading ---------------------------------------------------------------------------

    def lookup(self, key: str) -> CacheRecord | None:
        """The record cached under `key`, checked; None on a miss or a bad entry."""
        found = self._lookup(key)
        return found.record if found is not None else None

    def _lookup(self, key: str) -> _Found | None:
        tag = cache_tag(key)
        try:
            fetched = self.client.find_manifest(tag)
            if fetched is None:
                return None
            manifest = _checked_manifest(fetched.parsed, key, f"{self.reference}:{tag}")
            record = self._record(manifest.config, key, f"{self.reference}:{tag}")
        except (ImagekitError, OSError) as e:
            self.say(f"cache: {self.reference}:{tag}: {e}; building the layer instead")
            return None
        return _Found(record=record, layer=manifest.layers[0])

    def _record(self, config: Descriptor, key: str, where: str) -> CacheRecord:
        with tempfile.TemporaryDirectory(prefix="imagekit-cache-") as tmp:
            path = Path(tmp) / "record.json"
            self.client.get_blob(config, path)
            data = path.read_bytes()
        record = CacheRecord.from_dict(parse_json(data, f"{where}: record"), f"{where}: record")
        if record.key != key:
            raise ManifestError(f"{where}: its record names key {record.key[:64]}, not {key}")
        return record

    def take(self, key: str, cache: LayerCache, local_key: str | None = None) -> bool:
        """Fetch the layer of `key` into `cache` (named `local_key`, by default `key`), every
        check passed first; whether it is there now. Never raises."""
        if key in self._aliases:  # a Python layer: asked for by its packages, before its wheels
            return False
        found = self._lookup(key)
        return found is not None and self.adopt(key, found, cache, local_key or key)

    def take_record(
        self, key: str, cache: LayerCache, local_key: Callable[[CacheRecord], str]
    ) -> CacheRecord | None:
        """`take` for a layer whose local key depends on its record (a Python layer's
        requirements.txt); the record, or None when the layer is not in `cache` now."""
        found = self._lookup(key)
        if found is None:
            return None
        return found.record if self.adopt(key, found, cache, local_key(found.record)) else None

    def adopt(self, key: str, found: _Found, cache: LayerCache, local_key: str) -> bool:
        blob = LayerBlob(descriptor=found.layer, diff_id=found.record.diff_id)
        if cache.get(local_key) == blob:
            self.found.append(key)
            return True
        try:
            self._download(blob, cache, local_key)
        except (ImagekitError, OSError) as e:
            self.say(f"cache: {self.reference}:{cache_tag(key)}: {e}; building the layer instead")
            return False
        self.found.append(key)
        return True

    def _download(self, blob: LayerBlob, cache: LayerCache, local_key: str) -> None:
        """The blob streamed into a folder beside the cache's blobs, checked by digest, size
        and diff id, then moved in and named by `local_key`: nothing half-checked is named."""
        digest = blob.descriptor.digest
        hexdigest = digest.removeprefix("sha256:")
        cache.blobs.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(dir=cache.root, prefix=".fetch-") as tmp,
            using(cache.root, hexdigest, cache.root / "layers" / f"{local_key}.json"),
        ):
            staged = Path(tmp) / hexdigest
            self.client.get_blob(blob.descriptor, staged)
            with open_layer(staged, blob.descriptor.media_type) as stream:
                diff_id, _ = stream_digest(stream)
            if diff_id != blob.diff_id:
                raise ManifestError(
                    f"blob {digest} unpacks to {diff_id}, not the diff id {blob.diff_id} its "
                    "record claims; refused"
                )
            staged.replace(cache.blobs / hexdigest)
            cache.put(local_key, blob)

    # -- writing ---------------------------------------------------------------------------

    def alias(
        self, key: str, shared_key: str, requirements: str, wheels: tuple[CachedWheel, ...]
    ) -> None:
        """Share the layer whose local key is `key` under `shared_key`, its record naming
        `requirements` and `wheels` (a Python layer, keyed by its locked packages)."""
        self._aliases[key] = _Alias(key=shared_key, requirements=requirements, wheels=wheels)

    def built(self, key: str, blob: LayerBlob) -> None:
        """Note a layer this build wrote into the local cache, to push with `share`."""
        alias = self._aliases.get(key)
        record = CacheRecord(key=key, diff_id=blob.diff_id)
        if alias is not None:
            record = CacheRecord(key=alias.key, diff_id=blob.diff_id,
                                 requirements=alias.requirements, wheels=alias.wheels)  # fmt: skip
        self._built[record.key] = (blob, record)

    def share(self, cache: LayerCache) -> None:
        """Push every noted layer (its blob from `cache`) and its artifact; a failure is said."""
        for key, (blob, record) in sorted(self._built.items()):
            source = cache.blobs / blob.descriptor.digest.removeprefix("sha256:")
            try:
                self._push(key, blob, source, record)
            except (ImagekitError, OSError) as e:
                self.say(f"cache: pushing {self.reference}:{cache_tag(key)} failed: {e}")
                continue
            self.pushed.append(key)
        self._built.clear()

    def _push(self, key: str, blob: LayerBlob, source: Path, record: CacheRecord) -> None:
        client = self.client
        if not client.blob_exists(blob.descriptor.digest):
            client.upload_blob(source, blob.descriptor)
        data = canonical_json(record.to_dict())
        config = Descriptor(media_type=RECORD_MEDIA_TYPE, digest=digest_of(data), size=len(data))
        if not client.blob_exists(config.digest):
            with tempfile.TemporaryDirectory(prefix="imagekit-cache-") as tmp:
                path = Path(tmp) / "record.json"
                path.write_bytes(data)
                client.upload_blob(path, config)
        manifest = Manifest(
            config=config,
            layers=(blob.descriptor,),
            annotations=((KEY_ANNOTATION, key),),
            artifact_type=LAYER_CACHE_TYPE,
        )
        client.put_manifest(canonical_json(manifest.to_dict()), MANIFEST_MEDIA_TYPE, cache_tag(key))


def _checked_manifest(manifest: object, key: str, where: str) -> Manifest:
    """`manifest`, if it is the layer-cache artifact of `key` with one layer; raises
    `ManifestError` saying what it is instead."""
    if not isinstance(manifest, Manifest) or manifest.media_type != MANIFEST_MEDIA_TYPE:
        raise ManifestError(f"{where}: not an OCI image manifest; refused")
    if manifest.artifact_type != LAYER_CACHE_TYPE:
        raise ManifestError(f"{where}: artifactType {manifest.artifact_type!r}; refused")
    named = dict(manifest.annotations).get(KEY_ANNOTATION)
    if named != key:
        raise ManifestError(f"{where}: names key {named!r}, not {key}; refused")
    if manifest.config.media_type != RECORD_MEDIA_TYPE or manifest.config.size > MAX_RECORD:
        raise ManifestError(
            f"{where}: its config is not a layer-cache record of at most {MAX_RECORD} bytes"
        )
    if len(manifest.layers) != 1 or manifest.layers[0].media_type not in LAYER_MEDIA_TYPES:
        raise ManifestError(f"{where}: must hold exactly one gzip or zstd layer; refused")
    return manifest
