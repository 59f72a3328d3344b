"""Builds mark what they use and hold it while they do: the wheelhouse, the layer cache and the
base layouts, through their real code, against `imagekit.cache.prune`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from _cache_worker import filler
from packaging.utils import canonicalize_name
from packaging.version import Version
from test_wheelhouse import AMD64, offline, seed_cache

from imagekit.build.oci import hold_bases
from imagekit.build.oci.cache import LayerCache
from imagekit.build.wheelhouse import fetch_wheels
from imagekit.cache import Area, Rule, prune, scan
from imagekit.cache.prune import _Pruner
from imagekit.image.compress import write_blob
from imagekit.image.model import Compression
from imagekit.plan.catalog import Catalog
from imagekit.project.lockfile import PinnedPackage

__all__ = ["offline"]  # the fixture, used by name
LONG_AGO = 1_500_000_000


@pytest.mark.usefixtures("offline")
def test_a_wheel_taken_from_the_cache_is_marked_used_and_keeps_its_mtime(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = seed_cache(cache, "tiny-1.0-py3-none-any.whl")
    entry = cache / "sha256" / digest
    os.utime(entry, (LONG_AGO, LONG_AGO))
    wheel_mtime = (entry / "tiny-1.0-py3-none-any.whl").stat().st_mtime
    pinned = PinnedPackage(name=canonicalize_name("tiny"), version=Version("1.0"), sha256=(digest,))
    fetch_wheels([pinned], AMD64, tmp_path / "wh", cache)
    assert entry.stat().st_mtime > time.time() - 60
    assert (entry / "tiny-1.0-py3-none-any.whl").stat().st_mtime == wheel_mtime
    assert (cache / ".locks" / f"{digest}.lock").is_file()


def test_a_reused_layer_is_marked_used_and_linked(tmp_path: Path) -> None:
    cache = LayerCache(root=tmp_path / "oci")
    blob = write_blob(cache.blobs, Compression.GZIP, filler(b"layer"))
    assert cache.keep("a" * 64, blob, tmp_path / "first")
    record = tmp_path / "oci" / "layers" / f"{'a' * 64}.json"
    os.utime(record, (LONG_AGO, LONG_AGO))
    assert cache.reuse("a" * 64, tmp_path / "second") == blob
    assert record.stat().st_mtime > time.time() - 60
    hexdigest = blob.descriptor.digest.removeprefix("sha256:")
    assert (tmp_path / "second" / "blobs" / "sha256" / hexdigest).is_file()


def test_a_build_holds_its_base_and_the_parents_until_it_closes(tmp_path: Path) -> None:
    base = Catalog.load().get("debian-bookworm-py311-cuda12.4")
    assert base.parent is not None
    layouts = [tmp_path / "bases" / b.recipe_hash for b in (base, base.parent)]
    for layout in layouts:
        layout.mkdir(parents=True)
        (layout / "index.json").write_text("{}")
        os.utime(layout, (LONG_AGO, LONG_AGO))
    with hold_bases(base, tmp_path):
        pruned = prune(tmp_path, Rule(max_size=0))
        assert sorted(e.name for e in pruned.in_use) == sorted(p.name for p in layouts)
        assert all(layout.is_dir() for layout in layouts)
    assert len(prune(tmp_path, Rule(max_size=0)).removed) == 2


def test_an_entry_used_after_the_scan_is_kept(tmp_path: Path) -> None:
    layout = tmp_path / "bases" / ("c" * 64)
    layout.mkdir(parents=True)
    (layout / "index.json").write_text("{}")
    os.utime(layout, (LONG_AGO, LONG_AGO))
    found = scan(tmp_path, (Area.BASES,))
    os.utime(layout)  # a build used it between the scan and the removal
    pruned = _Pruner(found, Rule(max_size=0), now=time.time(), scanned=time.time()).run()
    assert [e.name for e in pruned.in_use] == ["c" * 64]
    assert layout.is_dir()


def test_a_blob_a_key_written_after_the_scan_names_is_kept(tmp_path: Path) -> None:
    cache = LayerCache(root=tmp_path / "oci")
    blob = write_blob(cache.blobs, Compression.GZIP, filler(b"layer"))
    assert cache.keep("a" * 64, blob, tmp_path / "first")
    scanned = time.time()
    os.utime(cache.blobs.parent.parent / "layers" / f"{'a' * 64}.json", (LONG_AGO, LONG_AGO))
    found = scan(tmp_path, (Area.LAYERS,))
    assert cache.keep("b" * 64, blob, tmp_path / "second")  # after the scan, before the prune
    pruned = _Pruner(found, Rule(max_size=0), now=scanned, scanned=scanned).run()
    assert [r.entry.name for r in pruned.removed] == ["a" * 64]
    assert (cache.blobs / blob.descriptor.digest.removeprefix("sha256:")).is_file()
