"""The registry layer cache (`build --cache REF`) against a real registry: a layer pushed by one
cache root is taken by another, checked; a miss, a poisoned entry or an unreachable registry is
a warning, and the local cache is left without a record or a blob for it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _registry_support import anonymous_registry

from imagekit.build.oci.cache import LayerCache, layer_key
from imagekit.build.oci.regcache import (
    KEY_ANNOTATION,
    LAYER_CACHE_TYPE,
    RECORD_MEDIA_TYPE,
    CacheRecord,
    RegistryCache,
    cache_reference,
    cache_tag,
)
from imagekit.image.digest import digest_of
from imagekit.image.model import (
    MANIFEST_MEDIA_TYPE,
    Compression,
    Descriptor,
    LayerBlob,
    Manifest,
    canonical_json,
)
from imagekit.image.tarlayer import Tree, bytes_entry, write_layer
from imagekit.registry import ClientOptions, InvalidReferenceError, RegistryClient

EPOCH = 315532800


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@dataclass(slots=True)
class Said:
    lines: list[str]

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def _repository(registry: str) -> str:
    return f"{registry}/imagekit-test/layer-cache-{uuid.uuid4().hex[:12]}"


def _layer(cache: LayerCache, text: str) -> LayerBlob:
    tree = Tree()
    tree.add(bytes_entry("opt/data.txt", text.encode(), mtime=EPOCH))
    return write_layer(tree, cache.blobs, mtime=EPOCH, compression=Compression.GZIP)


def _shared(repository: str, said: Said) -> RegistryCache:
    return RegistryCache(reference=cache_reference(repository), say=said)


def _pushed(tmp_path: Path, repository: str, text: str) -> tuple[str, LayerBlob]:
    """A layer written into runner A's cache and pushed under its key; the key and blob."""
    cache = LayerCache(root=tmp_path / "a")
    blob = _layer(cache, text)
    key = layer_key({"test": text})
    cache.put(key, blob)
    shared = _shared(repository, Said([]))
    shared.built(key, blob)
    shared.share(cache)
    assert shared.pushed == [key]
    return key, blob


def _put_artifact(  # noqa: PLR0917  (each poisoned entry differs in one of them)
    tmp_path: Path,
    repository: str,
    key: str,
    manifest_key: str,
    record: CacheRecord,
    layer: Descriptor,
) -> None:
    """An artifact under `key`'s tag, made by hand: the poisoned entries are built with it."""
    client = RegistryClient(cache_reference(repository), push=True)
    data = canonical_json(record.to_dict())
    config = Descriptor(media_type=RECORD_MEDIA_TYPE, digest=digest_of(data), size=len(data))
    path = tmp_path / "record.json"
    path.write_bytes(data)
    client.upload_blob(path, config)
    manifest = Manifest(
        config=config,
        layers=(layer,),
        annotations=((KEY_ANNOTATION, manifest_key),),
        artifact_type=LAYER_CACHE_TYPE,
    )
    data = canonical_json(manifest.to_dict())
    client.put_manifest(data, MANIFEST_MEDIA_TYPE, cache_tag(key))


def _empty(cache: LayerCache) -> bool:
    blobs = list(cache.blobs.glob("*")) if cache.blobs.is_dir() else []
    records = list((cache.root / "layers").glob("*")) if (cache.root / "layers").is_dir() else []
    return not blobs and not records


def test_a_layer_pushed_by_one_cache_is_taken_by_another(registry: str, tmp_path: Path) -> None:
    repository = _repository(registry)
    key, blob = _pushed(tmp_path, repository, "iris")
    said = Said([])
    shared = _shared(repository, said)
    cache = LayerCache(root=tmp_path / "b")
    assert shared.take(key, cache)
    assert cache.get(key) == blob
    assert shared.found == [key]
    assert said.lines == []


def test_a_python_layer_record_names_its_requirements_and_wheels(
    registry: str, tmp_path: Path
) -> None:
    repository = _repository(registry)
    source = LayerCache(root=tmp_path / "a")
    blob = _layer(source, "numpy")
    local = layer_key({"requirements": "numpy==2.3.5 --hash=sha256:" + "a" * 64 + "\n"})
    source.put(local, blob)
    pusher = _shared(repository, Said([]))
    pusher.alias(local, "p" * 64, "numpy==2.3.5 --hash=sha256:" + "a" * 64 + "\n", ())
    pusher.built(local, blob)
    pusher.share(source)
    assert pusher.pushed == ["p" * 64]
    cache = LayerCache(root=tmp_path / "b")
    record = _shared(repository, Said([])).take_record(
        "p" * 64, cache, lambda r: layer_key({"requirements": r.requirements})
    )
    assert record is not None
    assert record.requirements == "numpy==2.3.5 --hash=sha256:" + "a" * 64 + "\n"
    assert cache.get(local) == blob


def test_a_miss_is_quiet_and_takes_nothing(registry: str, tmp_path: Path) -> None:
    said = Said([])
    cache = LayerCache(root=tmp_path / "b")
    assert not _shared(_repository(registry), said).take("0" * 64, cache)
    assert said.lines == []
    assert _empty(cache)


def test_an_entry_naming_another_key_is_refused(registry: str, tmp_path: Path) -> None:
    repository = _repository(registry)
    key, blob = _pushed(tmp_path, repository, "one")
    poisoned = layer_key({"test": "poisoned"})
    record = CacheRecord(key=key, diff_id=blob.diff_id)
    _put_artifact(tmp_path, repository, poisoned, key, record, blob.descriptor)
    said = Said([])
    cache = LayerCache(root=tmp_path / "b")
    assert not _shared(repository, said).take(poisoned, cache)
    assert len(said.lines) == 1
    assert f"names key '{key}', not {poisoned}; refused" in said.lines[0]
    assert said.lines[0].endswith("building the layer instead")
    assert _empty(cache)


def test_a_record_claiming_another_diff_id_is_refused_before_anything_is_named(
    registry: str, tmp_path: Path
) -> None:
    repository = _repository(registry)
    _, blob = _pushed(tmp_path, repository, "two")
    poisoned = layer_key({"test": "wrong diff id"})
    record = CacheRecord(key=poisoned, diff_id=digest_of(b"something else"))
    _put_artifact(tmp_path, repository, poisoned, poisoned, record, blob.descriptor)
    said = Said([])
    cache = LayerCache(root=tmp_path / "b")
    assert not _shared(repository, said).take(poisoned, cache)
    assert f"not the diff id {record.diff_id} its record claims; refused" in said.lines[0]
    assert _empty(cache)


def test_a_layer_of_another_size_is_refused(registry: str, tmp_path: Path) -> None:
    repository = _repository(registry)
    _, blob = _pushed(tmp_path, repository, "three")
    poisoned = layer_key({"test": "wrong size"})
    record = CacheRecord(key=poisoned, diff_id=blob.diff_id)
    d = blob.descriptor
    wrong = Descriptor(media_type=d.media_type, digest=d.digest, size=d.size - 1)
    _put_artifact(tmp_path, repository, poisoned, poisoned, record, wrong)
    said = Said([])
    cache = LayerCache(root=tmp_path / "b")
    assert not _shared(repository, said).take(poisoned, cache)
    assert f"refused blob {d.digest}" in said.lines[0]
    assert _empty(cache)


def test_an_entry_of_another_artifact_type_is_refused(registry: str, tmp_path: Path) -> None:
    repository = _repository(registry)
    key, _ = _pushed(tmp_path, repository, "four")
    client = RegistryClient(cache_reference(repository), push=True)
    fetched = client.get_manifest(cache_tag(key))
    assert isinstance(fetched.parsed, Manifest)
    other = Manifest(
        config=fetched.parsed.config,
        layers=fetched.parsed.layers,
        annotations=fetched.parsed.annotations,
        artifact_type="application/vnd.example.other",
    )
    client.put_manifest(canonical_json(other.to_dict()), MANIFEST_MEDIA_TYPE, cache_tag(key))
    said = Said([])
    cache = LayerCache(root=tmp_path / "b")
    assert not _shared(repository, said).take(key, cache)
    assert "artifactType 'application/vnd.example.other'; refused" in said.lines[0]
    assert _empty(cache)


def test_an_unreachable_registry_is_a_warning(tmp_path: Path) -> None:
    said = Said([])
    shared = RegistryCache(
        reference=cache_reference("127.0.0.1:9/imagekit-test/none"),
        say=said,
        options=ClientOptions(timeout_s=2, deadline_s=2),
    )
    cache = LayerCache(root=tmp_path / "b")
    assert not shared.take("0" * 64, cache)
    assert said.lines[0].startswith("cache: 127.0.0.1:9/imagekit-test/none:layer-0000")
    assert _empty(cache)


def test_the_cache_names_a_repository_not_a_tag() -> None:
    with pytest.raises(InvalidReferenceError, match="without a tag or digest"):
        cache_reference("127.0.0.1:5000/imagekit-test/cache:latest")
    assert str(cache_reference("127.0.0.1:5000/imagekit-test/cache")) == (
        "127.0.0.1:5000/imagekit-test/cache"
    )
