"""The layer cache: a layer whose inputs are unchanged is reused byte for byte, never re-tarred
or re-compressed; a change to any input, or a damaged entry, makes it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagekit.build.oci.cache import LayerCache, layer_key
from imagekit.image.model import Compression
from imagekit.image.tarlayer import Tree, bytes_entry, write_layer

EPOCH = 315532800
TORCH = {"kind": "framework", "name": "framework-torch", "requirements": "torch==2.14.1\n"}


def _layer(cache: LayerCache, text: bytes) -> None:
    tree = Tree()
    tree.add(bytes_entry("opt/venv/torch.txt", text, mtime=EPOCH))
    blob = write_layer(tree, cache.blobs, mtime=EPOCH, compression=Compression.GZIP)
    cache.put(layer_key({**TORCH, "epoch": EPOCH, "compression": "gzip"}), blob)


def test_a_hit_gives_the_stored_blob_and_its_bytes(tmp_path: Path) -> None:
    cache = LayerCache(root=tmp_path)
    _layer(cache, b"torch " * 1000)
    hit = cache.get(layer_key({**TORCH, "epoch": EPOCH, "compression": "gzip"}))
    assert hit is not None
    path = cache.blobs / hit.descriptor.digest.removeprefix("sha256:")
    before = (path.stat().st_mtime_ns, path.read_bytes())
    assert cache.get(layer_key({**TORCH, "epoch": EPOCH, "compression": "gzip"})) == hit
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before  # read, never rewritten


@pytest.mark.parametrize(
    "change",
    [
        {"requirements": "torch==2.14.0\n"},  # another version of the layer's packages
        {"compression": "zstd"},
        {"epoch": EPOCH + 1},
    ],
)
def test_any_input_changed_misses(tmp_path: Path, change: dict[str, object]) -> None:
    cache = LayerCache(root=tmp_path)
    _layer(cache, b"torch")
    assert cache.get(layer_key({**TORCH, "epoch": EPOCH, "compression": "gzip", **change})) is None


def test_an_entry_whose_blob_is_damaged_or_gone_misses(tmp_path: Path) -> None:
    cache = LayerCache(root=tmp_path)
    _layer(cache, b"torch")
    key = layer_key({**TORCH, "epoch": EPOCH, "compression": "gzip"})
    hit = cache.get(key)
    assert hit is not None
    path = cache.blobs / hit.descriptor.digest.removeprefix("sha256:")
    path.write_bytes(path.read_bytes()[:-1])  # truncated
    assert cache.get(key) is None
    path.unlink()
    assert cache.get(key) is None


def test_no_cache_reads_nothing(tmp_path: Path) -> None:
    _layer(LayerCache(root=tmp_path), b"torch")
    key = layer_key({**TORCH, "epoch": EPOCH, "compression": "gzip"})
    assert LayerCache(root=tmp_path, enabled=False).get(key) is None
