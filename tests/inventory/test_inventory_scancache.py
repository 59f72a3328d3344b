"""The layer scans a build's read-back keeps by blob digest (`inventory.scancache`): the same
Inventory as a full read, the blobs it knows left unread, only checked blobs stored, and any
stored entry that does not read back exactly ignored."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from _inventory_helpers import directory, file, hardlink, layer, oci_layout, symlink

from imagekit.inventory import InventoryError, read_inventory, wanted
from imagekit.inventory.layers import Budget, walk_image
from imagekit.inventory.scancache import ScanCache
from imagekit.inventory.sources import open_source

METADATA = "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.3\nLicense: MIT\n"
STATUS = (
    "Package: libdemo1\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n"
    "Maintainer: someone <someone@example.com>\n\n"
)
SITE = "opt/venv/lib/python3.11/site-packages"


def _layers() -> list[bytes]:
    base = layer(
        directory("etc"),
        file("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'),
        file("var/lib/dpkg/status", STATUS),
        file("usr/bin/tool", b"\x7fELF" + b"\0" * 60),
        hardlink("usr/bin/tool2", "usr/bin/tool"),
        symlink("usr/bin/t", "tool"),
        file("tmp/gone.txt", "x"),
    )
    top = layer(
        file(f"{SITE}/demo_pkg-1.2.3.dist-info/METADATA", METADATA),
        file(f"{SITE}/demo_pkg-1.2.3.dist-info/RECORD", "demo_pkg/__init__.py,,\n"),
        file(f"{SITE}/demo_pkg/__init__.py", "x = 1\n"),
        file("tmp/.wh.gone.txt"),
    )
    return [base, top]


def _blobs(layout: Path) -> list[Path]:
    manifest_desc = json.loads((layout / "index.json").read_text())["manifests"][0]
    manifest = json.loads(
        (layout / "blobs/sha256" / manifest_desc["digest"].removeprefix("sha256:")).read_text()
    )
    return [
        layout / "blobs/sha256" / x["digest"].removeprefix("sha256:") for x in manifest["layers"]
    ]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    root = tmp_path / "oci"
    oci_layout(root, _layers())
    return root


def test_a_read_with_stored_scans_is_the_same_inventory(layout: Path, tmp_path: Path) -> None:
    scans = ScanCache(tmp_path / "scans")
    plain = read_inventory(str(layout))
    first = read_inventory(str(layout), scans=scans)
    assert len(list(scans.root.iterdir())) == 2
    second = read_inventory(str(layout), scans=scans)
    assert plain == first == second
    assert [d.name for d in second.python] == ["demo-pkg"]
    assert [d.name for d in second.debs] == ["libdemo1"]


def test_a_known_blob_is_left_unread(layout: Path, tmp_path: Path) -> None:
    scans = ScanCache(tmp_path / "scans")
    expected = read_inventory(str(layout), scans=scans)
    for blob in _blobs(layout):  # same size, other bytes: only a read would notice
        blob.write_bytes(b"\0" * blob.stat().st_size)
    assert read_inventory(str(layout), scans=scans) == expected
    with pytest.raises(InventoryError, match="sha256"):
        read_inventory(str(layout))  # without the cache, every blob is checked


def test_a_blob_that_fails_its_digest_is_not_stored(layout: Path, tmp_path: Path) -> None:
    scans = ScanCache(tmp_path / "scans")
    top = _blobs(layout)[1]
    other = gzip.compress(layer(file("evil", "not what the manifest names")), mtime=0)
    top.write_bytes(other[: top.stat().st_size].ljust(top.stat().st_size, b"\0"))
    with pytest.raises(InventoryError):
        read_inventory(str(layout), scans=scans)
    assert not scans.root.exists() or not list(scans.root.iterdir())


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: gzip.compress(b"{}"),  # another shape
        lambda b: gzip.compress(gzip.decompress(b).replace(b'"revision":"1"', b'"revision":"0"')),
        lambda b: gzip.compress(gzip.decompress(b).replace(b'"entries":[[', b'"entries":[[7,')),
        lambda b: b"not gzip at all",
    ],
    ids=["truncated", "empty-object", "other-revision", "bad-entry", "not-gzip"],
)
def test_a_damaged_entry_is_ignored_and_the_layer_read_again(
    layout: Path, tmp_path: Path, damage: object
) -> None:
    scans = ScanCache(tmp_path / "scans")
    expected = read_inventory(str(layout), scans=scans)
    for entry in scans.root.iterdir():
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert read_inventory(str(layout), scans=scans) == expected


def test_stored_scans_spend_the_image_budget(layout: Path, tmp_path: Path) -> None:
    scans = ScanCache(tmp_path / "scans")
    read_inventory(str(layout), scans=scans)
    source = open_source(str(layout))

    def counting(budget: Budget) -> None:
        walk_image(source, wanted, budget=budget, scans=scans)

    full = Budget()
    counting(full)
    assert full.unpacked > 0
    # A budget the stored scans do not fit: the layers are read, and fail as read layers do.
    with pytest.raises(InventoryError, match="MAX_UNPACKED"):
        counting(Budget(max_unpacked=full.unpacked - 1))


def test_scans_kept_by_another_rule_are_not_taken(layout: Path, tmp_path: Path) -> None:
    scans = ScanCache(tmp_path / "scans")
    read_inventory(str(layout), scans=scans)

    def nothing(path: str) -> bool:
        return False

    _, view, _ = walk_image(open_source(str(layout)), nothing, scans=scans)
    assert view.read(f"{SITE}/demo_pkg-1.2.3.dist-info/METADATA") is None
    assert len(list(scans.root.iterdir())) == 4  # two layers under each rule
