"""What the cache holds and pruning it: least recently used first, whole entries, never one a
build holds, a layer blob only with the last key naming it, foreign files and what symbolic
links point at left alone."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from imagekit.build.pipeline import build_project
from imagekit.cache import (
    Area,
    CacheError,
    Entry,
    Removed,
    Rule,
    prune,
    prune_to_limit,
    scan,
    shared,
)
from imagekit.cache.lock import lock_path

DAY = 86400.0
NOW = 1_700_000_000.0  # in the past: the scan saw every entry
KIB = 1024


def _hex(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _used(path: Path, days_ago: float) -> None:
    moment = NOW - days_ago * DAY
    os.utime(path, (moment, moment), follow_symlinks=False)


def _file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def wheel(root: Path, label: str, days_ago: float, size: int = 10 * KIB) -> str:
    digest = _hex(label)
    entry = root / "wheels" / "sha256" / digest
    _file(entry / f"{label}-1.0-py3-none-any.whl", size)
    meta = root / "wheels" / "metadata" / "sha256" / digest
    _file(meta / f"{label}-1.0-py3-none-any.whl.metadata", 100)
    _used(entry, days_ago)
    _used(meta, days_ago)
    return digest


def base(root: Path, label: str, days_ago: float, size: int = 10 * KIB) -> Path:
    layout = root / "bases" / _hex(label)
    _file(layout / "blobs" / "sha256" / _hex(label + "blob"), size)
    _file(layout / "index.json", 10)
    _used(layout, days_ago)
    return layout


def blob(root: Path, label: str, size: int = 10 * KIB, days_ago: float = 0) -> str:
    digest = _hex(label)
    _used(_file(root / "oci" / "blobs" / "sha256" / digest, size), days_ago)
    return digest


def layer(root: Path, key: str, digest: str, days_ago: float) -> Path:
    record = root / "oci" / "layers" / f"{_hex(key)}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    descriptor = {"mediaType": "x", "digest": f"sha256:{digest}", "size": 1}
    record.write_text(json.dumps({"descriptor": descriptor, "diff_id": f"sha256:{digest}"}))
    _used(record, days_ago)
    return record


def _names(entries: tuple[Entry | Removed, ...]) -> list[str]:
    chosen = [e.entry if isinstance(e, Removed) else e for e in entries]
    return [f"{e.area.value}:{e.name}" for e in chosen]


def test_scan_groups_each_area_into_the_entries_builds_use(tmp_path: Path) -> None:
    digest = wheel(tmp_path, "numpy", 3)
    layout = base(tmp_path, "cuda", 1)
    shared_blob = blob(tmp_path, "torch")
    layer(tmp_path, "a", shared_blob, 2)
    layer(tmp_path, "b", shared_blob, 4)
    _used(_file(tmp_path / "facts" / f"{_hex('facts')}.json", 50), 5)
    _used(_file(tmp_path / "scans" / f"{_hex('scan')}.json.gz", 70), 6)
    found = scan(tmp_path)
    by_area = {a: [e for e in found.entries if e.area is a] for a in Area}
    assert [(e.name, e.size, e.last_used) for e in by_area[Area.WHEELS]] == [
        (digest, 10 * KIB + 100, NOW - 3 * DAY)
    ]
    assert [(e.name, e.size) for e in by_area[Area.BASES]] == [(layout.name, 10 * KIB + 10)]
    assert sorted(e.name for e in by_area[Area.LAYERS]) == sorted([_hex("a"), _hex("b")])
    assert found.total(Area.LAYERS) == 10 * KIB + sum(
        e.size for e in by_area[Area.LAYERS]
    )  # the blob both keys name, once
    assert [e.name for e in by_area[Area.FACTS]] == [_hex("facts")]
    assert [(e.name, e.size) for e in by_area[Area.SCANS]] == [(_hex("scan"), 70)]
    assert found.foreign == ()


def test_prune_removes_the_least_recently_used_until_under_the_limit(tmp_path: Path) -> None:
    old = wheel(tmp_path, "old", 30)
    older_base = base(tmp_path, "older", 20)
    recent = wheel(tmp_path, "recent", 1)
    newest_base = base(tmp_path, "newest", 0.5)
    pruned = prune(tmp_path, Rule(max_size=25 * KIB), now=NOW)
    assert _names(pruned.removed) == [f"wheels:{old}", f"bases:{older_base.name}"]
    assert pruned.after <= 25 * KIB
    assert pruned.freed == pruned.before - pruned.after == 2 * 10 * KIB + 100 + 10
    assert not (tmp_path / "wheels" / "sha256" / old).exists()
    assert not (tmp_path / "wheels" / "metadata" / "sha256" / old).exists()  # with its METADATA
    assert (tmp_path / "wheels" / "sha256" / recent).is_dir()
    assert newest_base.is_dir()
    assert not lock_path(tmp_path / "wheels", old).exists()  # its lock went with it


def test_older_than_removes_only_entries_unused_that_long(tmp_path: Path) -> None:
    old = wheel(tmp_path, "old", 40)
    wheel(tmp_path, "fresh", 2)
    pruned = prune(tmp_path, Rule(older_than=30 * DAY), now=NOW)
    assert _names(pruned.removed) == [f"wheels:{old}"]


def test_area_prunes_that_area_alone_to_the_limit(tmp_path: Path) -> None:
    wheel(tmp_path, "oldest", 90)
    first = base(tmp_path, "first", 10)
    base(tmp_path, "second", 5)
    pruned = prune(tmp_path, Rule(max_size=15 * KIB, areas=(Area.BASES,)), now=NOW)
    assert _names(pruned.removed) == [f"bases:{first.name}"]
    assert (tmp_path / "wheels" / "sha256" / _hex("oldest")).is_dir()


def test_a_blob_goes_with_the_last_key_naming_it(tmp_path: Path) -> None:
    digest = blob(tmp_path, "torch")
    first = layer(tmp_path, "a", digest, 9)
    second = layer(tmp_path, "b", digest, 8)
    path = tmp_path / "oci" / "blobs" / "sha256" / digest
    first_size, second_size = first.stat().st_size, second.stat().st_size
    one = prune(tmp_path, Rule(max_size=0, older_than=None), now=NOW)
    assert _names(one.removed) == [f"layers:{first.stem}", f"layers:{second.stem}"]
    assert [r.freed for r in one.removed] == [first_size, second_size + 10 * KIB]
    assert not path.exists()
    assert one.freed == one.before


def test_a_blob_another_key_names_stays(tmp_path: Path) -> None:
    digest = blob(tmp_path, "torch")
    first = layer(tmp_path, "a", digest, 9)
    layer(tmp_path, "b", digest, 1)
    record_size = first.stat().st_size
    pruned = prune(tmp_path, Rule(older_than=5 * DAY), now=NOW)
    assert _names(pruned.removed) == [f"layers:{first.stem}"]
    assert (tmp_path / "oci" / "blobs" / "sha256" / digest).is_file()
    assert pruned.freed == record_size


def test_a_blob_no_key_names_is_an_entry_of_its_own(tmp_path: Path) -> None:
    digest = blob(tmp_path, "stray", days_ago=3)
    pruned = prune(tmp_path, Rule(older_than=DAY), now=NOW)
    assert _names(pruned.removed) == [f"layers:blob {digest}"]
    assert pruned.freed == 10 * KIB


def test_an_entry_a_build_holds_is_kept_and_the_next_goes(tmp_path: Path) -> None:
    held = wheel(tmp_path, "held", 30)
    other = wheel(tmp_path, "other", 20)
    with shared(tmp_path / "wheels", held):
        pruned = prune(tmp_path, Rule(max_size=11 * KIB), now=NOW)
    assert _names(pruned.in_use) == [f"wheels:{held}"]
    assert _names(pruned.removed) == [f"wheels:{other}"]
    assert (tmp_path / "wheels" / "sha256" / held).is_dir()


def test_dry_run_removes_nothing(tmp_path: Path) -> None:
    old = wheel(tmp_path, "old", 30)
    pruned = prune(tmp_path, Rule(max_size=0, dry_run=True), now=NOW)
    assert _names(pruned.removed) == [f"wheels:{old}"]
    assert pruned.after == 0
    assert (tmp_path / "wheels" / "sha256" / old).is_dir()


def test_foreign_files_are_reported_and_left_alone(tmp_path: Path) -> None:
    wheel(tmp_path, "numpy", 30)
    strays = [
        _file(tmp_path / "notes.txt", 5),
        _file(tmp_path / "wheels" / "sha256" / "not-a-hash" / "x.whl", 5),
        _file(tmp_path / "oci" / "layers" / "broken.json", 5),
        _file(tmp_path / "bases" / "README", 5),
    ]
    (tmp_path / "oci" / "layers" / f"{_hex('bad')}.json").write_text("{not json")
    strays.append(tmp_path / "oci" / "layers" / f"{_hex('bad')}.json")
    pruned = prune(tmp_path, Rule(max_size=0), now=NOW)
    assert len(pruned.removed) == 1
    assert sorted(pruned.foreign) == sorted(p.parent if "not-a-hash" in str(p) else p
                                            for p in strays)  # fmt: skip
    assert all(p.exists() for p in strays)


def test_symlinks_are_never_followed_out_of_the_cache(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    precious = _file(outside / "precious.bin", 100 * KIB)
    root = tmp_path / "cache"
    layout = base(root, "cuda", 30)
    (layout / "escape").symlink_to(outside)  # inside an entry: removed as a link
    (root / "bases" / _hex("linked")).symlink_to(outside)  # where an entry would be: foreign
    (root / "debs").symlink_to(outside)  # where an area would be: foreign
    found = scan(root)
    assert [e.size for e in found.entries] == [10 * KIB + 10 + len(str(outside))]
    assert sorted(found.foreign) == [root / "bases" / _hex("linked"), root / "debs"]
    pruned = prune(root, Rule(max_size=0), now=NOW)
    assert _names(pruned.removed) == [f"bases:{layout.name}"]
    assert not layout.exists()
    assert precious.read_bytes() == b"x" * 100 * KIB
    assert (root / "bases" / _hex("linked")).is_symlink()


def test_a_missing_cache_is_empty(tmp_path: Path) -> None:
    pruned = prune(tmp_path / "nothing", Rule(max_size=0))
    assert (pruned.removed, pruned.before, pruned.foreign) == ((), 0, ())


@pytest.mark.parametrize("area", list(Area))
def test_every_area_has_a_folder_and_a_scanner(tmp_path: Path, area: Area) -> None:
    (tmp_path / area.folder).mkdir()
    assert scan(tmp_path, (area,)).entries == ()


def test_after_a_build_the_cache_is_pruned_to_the_limit_only_when_one_is_set(
    tmp_path: Path,
) -> None:
    old = wheel(tmp_path, "old", 30)
    wheel(tmp_path, "new", 1)
    assert prune_to_limit(tmp_path, None) is None
    pruned = prune_to_limit(tmp_path, 15 * KIB)
    assert pruned is not None
    assert _names(pruned.removed) == [f"wheels:{old}"]
    again = prune_to_limit(tmp_path, 15 * KIB)  # under the limit: nothing to do
    assert again is not None
    assert again.removed == ()


def test_a_build_with_a_limit_that_is_no_size_stops_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "20 gigs")
    with pytest.raises(CacheError, match=r"^\$IMAGEKIT_CACHE_MAX_SIZE: '20 gigs' is not a size"):
        build_project(tmp_path / "no-project", progress=lambda _: None)
