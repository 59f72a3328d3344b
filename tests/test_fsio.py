"""The one atomic write: whole or absent, the mode callers ask for, no temporary file left."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from imagekit.fsio import (
    atomic_file,
    copy_file,
    default_mode,
    staged_file,
    write_bytes,
    write_json,
    write_text,
)


def test_a_written_file_gets_the_mode_a_plain_write_would(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        path = write_text(tmp_path / "sbom.cdx.json", "{}\n")
        plain = tmp_path / "plain"
        plain.write_text("x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o640
    assert default_mode() == 0o666 & ~old


def test_the_mode_asked_for_is_kept(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "blob", b"x", mode=0o444)
    assert path.stat().st_mode & 0o777 == 0o444


def test_json_is_indented_sorted_and_ends_with_a_newline(tmp_path: Path) -> None:
    path = write_json(tmp_path / "build.json", {"b": 1, "a": [1]})
    assert path.read_text() == '{\n  "a": [\n    1\n  ],\n  "b": 1\n}\n'
    assert json.loads(path.read_text()) == {"a": [1], "b": 1}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = write_text(tmp_path / "record.json", "old\n")
    with pytest.raises(RuntimeError, match="interrupted"), atomic_file(path) as f:
        f.write(b"half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def test_nothing_is_visible_until_the_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    with atomic_file(path) as f:
        f.write(b"FROM scratch\n")
        assert not path.exists()
    assert path.read_bytes() == b"FROM scratch\n"


def test_a_hard_link_copied_over_itself_becomes_its_own_file(tmp_path: Path) -> None:
    cached = write_bytes(tmp_path / "cached.whl", b"wheel")
    linked = tmp_path / "context.whl"
    os.link(cached, linked)
    copy_file(linked, linked, mode=0o644, mtime=1_700_000_000)
    assert linked.stat().st_nlink == cached.stat().st_nlink == 1
    assert linked.read_bytes() == b"wheel"
    assert linked.stat().st_mtime == 1_700_000_000
    assert cached.stat().st_mtime != 1_700_000_000


def test_a_temporary_file_a_killed_writer_left_is_swept(tmp_path: Path) -> None:
    left = tmp_path / ".build.json.k1ll3d"  # no process holds its lock any more
    left.write_bytes(b"half")
    write_json(tmp_path / "build.json", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.json"]


def test_a_staged_file_is_named_by_what_it_holds(tmp_path: Path) -> None:
    with staged_file(tmp_path, ".layer-") as staged:
        staged.file.write(b"layer")
        digest = hashlib.sha256(b"layer").hexdigest()
        staged.publish(tmp_path / digest, mode=0o644)
    assert (tmp_path / digest).read_bytes() == b"layer"
    with staged_file(tmp_path, ".layer-") as staged:
        staged.file.write(b"never published")
    assert sorted(p.name for p in tmp_path.iterdir()) == [digest]
