"""Deterministic layer tarballs: sorted, normalised, parents explicit, fixed gzip header."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from imagekit.image.compress import BLOCK, open_layer, zstd_compressor
from imagekit.image.errors import OciError
from imagekit.image.model import Compression, LayerBlob
from imagekit.image.tarlayer import (
    Entry,
    EntryKind,
    Tree,
    bytes_entry,
    iter_members,
    write_layer,
)

EPOCH = 315532800


def _source(root: Path) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("x = 1\n")
    script = root / "pkg" / "sub" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o700)
    (root / "z.txt").write_text("z")
    (root / "z.txt").chmod(0o600)
    return root


def _tree(source: Path) -> Tree:
    tree = Tree()
    tree.add_directory(source, "/opt/app", mtime=EPOCH)
    tree.add(bytes_entry("etc/motd", b"hello\n", mtime=EPOCH))
    tree.dir("home/model", mtime=EPOCH, uid=10001, gid=10001)
    return tree


def _members(blobs: Path, layer: LayerBlob) -> list[tarfile.TarInfo]:
    data = gzip.decompress((blobs / layer.descriptor.digest.removeprefix("sha256:")).read_bytes())
    assert layer.diff_id == f"sha256:{hashlib.sha256(data).hexdigest()}"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


def test_same_files_give_the_same_digests(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    first = write_layer(_tree(source), tmp_path / "a", mtime=EPOCH, compression=Compression.GZIP)
    (source / "z.txt").touch()  # a newer mtime on disk changes nothing
    second = write_layer(_tree(source), tmp_path / "b", mtime=EPOCH, compression=Compression.GZIP)
    assert first == second
    assert first.descriptor.media_type == "application/vnd.oci.image.layer.v1.tar+gzip"


def test_entries_are_sorted_normalised_and_have_their_parents(tmp_path: Path) -> None:
    source = _source(tmp_path / "src")
    layer = write_layer(_tree(source), tmp_path / "b", mtime=EPOCH, compression=Compression.GZIP)
    members = _members(tmp_path / "b", layer)
    names = [m.name for m in members]
    assert names == sorted(names)
    assert names[:3] == ["etc", "etc/motd", "home"]
    assert {"opt", "opt/app", "opt/app/pkg", "opt/app/pkg/sub"} <= set(names)
    modes = {m.name: m.mode for m in members}
    assert modes["opt/app/pkg/sub/run.sh"] == 0o755
    assert modes["opt/app/z.txt"] == 0o644
    assert modes["opt/app/pkg"] == 0o755
    for m in members:
        assert m.mtime == EPOCH and m.uname == "" and m.gname == "" and m.pax_headers == {}
        owner = 10001 if m.name == "home/model" else 0
        assert (m.uid, m.gid) == (owner, owner)


def test_gzip_header_is_fixed(tmp_path: Path) -> None:
    layer = write_layer(Tree(), tmp_path, mtime=EPOCH, compression=Compression.GZIP)
    blob = (tmp_path / layer.descriptor.digest.removeprefix("sha256:")).read_bytes()
    # magic, deflate, no flags (no file name), mtime 0, no extra flags, OS "unknown"
    assert blob[:10] == bytes.fromhex("1f8b08000000000000ff")
    assert layer.descriptor.size == len(blob)


def test_long_names_get_a_path_header_but_no_times(tmp_path: Path) -> None:
    tree = Tree()
    name = "usr/lib/" + "x" * 150
    tree.add(bytes_entry(name, b"long", mtime=EPOCH))
    layer = write_layer(tree, tmp_path, mtime=EPOCH, compression=Compression.GZIP)
    data = gzip.decompress((tmp_path / layer.descriptor.digest[7:]).read_bytes())
    assert b"path=" in data
    for header in (b"mtime=", b"atime=", b"ctime="):
        assert header not in data


def test_hard_links_point_at_the_first_name(tmp_path: Path) -> None:
    tree = Tree()
    tree.add(
        Entry(
            path="usr/b",
            kind=EntryKind.FILE,
            mode=0o644,
            mtime=EPOCH,
            size=3,
            opener=lambda: io.BytesIO(b"abc"),
        )
    )
    tree.add(
        Entry(path="usr/a", kind=EntryKind.HARDLINK, mode=0o644, mtime=EPOCH, linkname="usr/b")
    )
    layer = write_layer(tree, tmp_path, mtime=EPOCH, compression=Compression.GZIP)
    members = {m.name: m for m in _members(tmp_path, layer)}
    assert members["usr/a"].isfile() and members["usr/a"].size == 3
    assert members["usr/b"].islnk() and members["usr/b"].linkname == "usr/a"


def test_a_hard_link_to_nothing_is_refused(tmp_path: Path) -> None:
    tree = Tree()
    tree.add(Entry(path="a", kind=EntryKind.HARDLINK, mode=0o644, mtime=EPOCH, linkname="gone"))
    with pytest.raises(OciError, match=r"hard link a -> gone: no such file here"):
        write_layer(tree, tmp_path, mtime=EPOCH, compression=Compression.GZIP)
    assert list(tmp_path.iterdir()) == []  # no half-written blob


def _layer_members(blobs: Path, layer: LayerBlob) -> dict[str, bytes]:
    path = blobs / layer.descriptor.digest.removeprefix("sha256:")
    with open_layer(path, layer.descriptor.media_type) as stream:
        data = stream.read()
    assert f"sha256:{hashlib.sha256(data).hexdigest()}" == layer.diff_id
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar if m.isfile()}


def test_a_zstd_layer_has_the_zstd_media_type_and_reads_back(tmp_path: Path) -> None:
    tree = Tree()
    tree.add(bytes_entry("opt/a.txt", b"alpha\n" * 1000, mtime=EPOCH))
    layer = write_layer(tree, tmp_path, mtime=EPOCH, compression=Compression.ZSTD)
    assert layer.descriptor.media_type == "application/vnd.oci.image.layer.v1.tar+zstd"
    blob = tmp_path / layer.descriptor.digest.removeprefix("sha256:")
    assert blob.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # the zstd frame magic
    assert _layer_members(tmp_path, layer) == {"opt/a.txt": b"alpha\n" * 1000}
    again = write_layer(tree, tmp_path / "again", mtime=EPOCH, compression=Compression.ZSTD)
    assert again == layer


def test_zstd_bytes_do_not_depend_on_the_number_of_workers() -> None:
    # Several MiB of varied data, so that zstd's multithreaded mode cuts it into jobs.
    data = b"".join(hashlib.sha256(str(i).encode()).digest() * (i % 7) for i in range(120_000))
    outputs = set()
    for workers in (1, 2, 4):
        compressor = zstd_compressor(workers)
        chunks = [compressor.compress(data[i : i + BLOCK]) for i in range(0, len(data), BLOCK)]
        outputs.add(b"".join(chunks) + compressor.flush())
    assert len(outputs) == 1


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)  # a hole: no disk used, read back as zeros
    return path


@pytest.mark.parametrize("compression", list(Compression))
def test_a_large_file_streams_through_bounded_memory(
    tmp_path: Path, compression: Compression
) -> None:
    size = 128 << 20
    big = _sparse(tmp_path / "big", size)
    tree = Tree()
    tree.add(
        Entry(path="opt/big", kind=EntryKind.FILE, mode=0o644, mtime=EPOCH, size=size,
              opener=lambda: big.open("rb"))
    )  # fmt: skip
    tracemalloc.start()
    try:
        layer = write_layer(tree, tmp_path / "blobs", mtime=EPOCH, compression=compression)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, f"peak {peak >> 20} MiB for a {size >> 20} MiB file"
    blob = tmp_path / "blobs" / layer.descriptor.digest.removeprefix("sha256:")
    with open_layer(blob, layer.descriptor.media_type) as stream:
        digest, total = hashlib.sha256(), 0
        while chunk := stream.read(BLOCK):
            digest.update(chunk)
            total += len(chunk)
    assert f"sha256:{digest.hexdigest()}" == layer.diff_id
    assert total > size


def test_a_corrupt_stream_names_the_layer(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"not deflate at all")
    with (
        pytest.raises(OciError, match=r"blob: the layer is corrupt"),
        gzip.open(blob, "rb") as stream,
    ):
        list(iter_members(stream, str(blob)))  # type: ignore[arg-type]
