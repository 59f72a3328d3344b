"""A root folder is listed, not streamed: only the files the readers parse are read, and the
view is the one its tar stream gives."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from _inventory_helpers import OS_RELEASE, PLAN, plan

from imagekit.inventory import read_inventory, wanted
from imagekit.inventory.interface import LayerVisitor, SourceImage, SourceKind
from imagekit.inventory.layers import Budget, walk_image
from imagekit.inventory.sources import RootfsSource

WEIGHTS = os.urandom(3 << 20)
STATUS = (
    "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n"
)


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(STATUS)
    (root / "opt/model").mkdir(parents=True)
    (root / "opt/model/weights.bin").write_bytes(WEIGHTS)
    os.link(root / "opt/model/weights.bin", root / "opt/model/same.bin")
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/os-release").symlink_to("../../etc/os-release")
    plan_file = root / PLAN
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    plan_file.write_bytes(plan(("/opt/model/weights.bin", digest)))
    return root


class _Streamed:
    """The same root read only as a source of layers: its tar stream."""

    def __init__(self, root: Path) -> None:
        self.source = RootfsSource(path=root)

    kind = SourceKind.ROOTFS

    @property
    def reference(self) -> str:
        return self.source.reference

    def read(self, visit: LayerVisitor) -> SourceImage:
        return self.source.read(visit)


def test_only_the_files_readers_parse_are_read(tmp_path: Path) -> None:
    _, view, _ = walk_image(RootfsSource(path=_root(tmp_path)), wanted, budget=Budget())
    weights = view.entries["opt/model/weights.bin"]
    assert (weights.data, weights.digest, weights.size) == (None, None, len(WEIGHTS))
    assert view.read("var/lib/dpkg/status") == STATUS.encode()
    # Hashed only when asked for, as the plan's artifacts are.
    assert weights.sha256 == hashlib.sha256(WEIGHTS).hexdigest()


def test_a_model_artifact_of_a_root_is_hashed(tmp_path: Path) -> None:
    inventory = read_inventory(str(_root(tmp_path)))
    [artifact] = inventory.artifacts
    assert artifact.actual_sha256 == artifact.recorded_sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert artifact.size == len(WEIGHTS)
    assert [d.name for d in inventory.debs] == ["zlib1g"]


def test_the_listing_gives_the_view_the_tar_stream_gives(tmp_path: Path) -> None:
    root = _root(tmp_path)
    _, listed, _ = walk_image(RootfsSource(path=root), wanted, budget=Budget())
    _, streamed, _ = walk_image(_Streamed(root), wanted, budget=Budget())
    assert sorted(listed.entries) == sorted(streamed.entries)
    for path, entry in streamed.entries.items():
        mine = listed.entries[path]
        assert (mine.kind, mine.size, mine.target, mine.data) == (
            entry.kind,
            entry.size,
            entry.target,
            entry.data,
        ), path
        assert mine.sha256 == entry.sha256, path  # hard link and file alike
