"""The layer walk: whiteouts, opaque directories, unsafe members, links, compression, big files."""

from __future__ import annotations

import hashlib
import importlib
import io
import resource
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _inventory_helpers import (
    PLAN,
    directory,
    file,
    gz,
    hardlink,
    layer,
    plan,
    sha256,
    symlink,
)

from imagekit.image.streams import IterStream
from imagekit.inventory import InventoryError, read_inventory_from
from imagekit.inventory.interface import LayerStream, LayerVisitor, SourceImage, SourceKind
from imagekit.inventory.layers import EntryKind, LayerScan, View, scan_layer, stack


def everything(path: str) -> bool:
    return True


def scanned(data: bytes, name: str = "test-layer", max_kept: int = 1 << 20) -> LayerScan:
    stream = LayerStream(name=name, media_type=None, stream=io.BytesIO(data))
    return scan_layer(stream, everything, max_kept=max_kept)


def view_of(*layers: bytes) -> View:
    return stack([scanned(x, f"layer-{i}") for i, x in enumerate(layers)], (), "test")


def files(view: View) -> list[str]:
    return sorted(p for p, e in view.entries.items() if e.kind is EntryKind.FILE)


def test_upper_layer_replaces_a_file() -> None:
    view = view_of(layer(file("etc/app.conf", "old")), layer(file("etc/app.conf", "new")))
    assert view.read("/etc/app.conf") == b"new"


def test_whiteout_deletes_a_file_and_a_directory_of_lower_layers() -> None:
    lower = layer(
        directory("a"), file("a/x", "x"), file("a/y", "y"), file("b/c/d", "d"), file("b2", "b2")
    )
    upper = layer(file("a/.wh.x"), file(".wh.b"))
    view = view_of(lower, upper)
    assert files(view) == ["a/y", "b2"]
    assert "b" not in view.entries and "b/c" not in view.entries


def test_whiteout_applies_to_lower_layers_only() -> None:
    # The same layer re-creates what it whites out: the new file stays.
    view = view_of(layer(file("etc/x", "old")), layer(file("etc/.wh.x"), file("etc/x", "new")))
    assert view.read("etc/x") == b"new"


def test_opaque_directory_hides_lower_contents_but_keeps_its_own() -> None:
    lower = layer(file("etc/app/old.conf"), file("etc/app/sub/deep"), file("etc/other"))
    upper = layer(directory("etc/app"), file("etc/app/.wh..wh..opq"), file("etc/app/new.conf"))
    view = view_of(lower, upper)
    assert files(view) == ["etc/app/new.conf", "etc/other"]
    assert view.entries["etc/app"].kind is EntryKind.DIR


def test_a_file_over_a_directory_hides_what_was_in_it() -> None:
    view = view_of(layer(file("opt/model/weights")), layer(file("opt/model", "now a file")))
    assert files(view) == ["opt/model"]


def test_layers_stack_in_the_config_order_not_the_visit_order() -> None:
    base, top = layer(file("x", "base")), layer(file("x", "top"))
    scans = [scanned(top, "top"), scanned(base, "base")]  # as a `docker save` stream may list them
    view = stack(scans, (sha256(base), sha256(top)), "image")
    assert view.read("x") == b"top"


def test_a_layer_the_config_lists_but_the_image_lacks_is_an_error() -> None:
    with pytest.raises(InventoryError, match=r"^image: the config lists layer sha256:0{64}, "):
        stack([scanned(layer(file("x")))], ("sha256:" + "0" * 64,), "image")


def test_dot_slash_members_are_normalised() -> None:
    view = view_of(layer(directory("./"), file("./etc/os-release", "ID=debian\n")))
    assert view.read("/etc/os-release") == b"ID=debian\n"


def test_absolute_member_is_refused() -> None:
    with pytest.raises(
        InventoryError,
        match=r"^layer evil\.tar: member '/etc/passwd' has an absolute path: refused, nothing was extracted",
    ):
        scanned(layer(file("/etc/passwd", "root::0:0::/:/bin/sh")), "evil.tar")


@pytest.mark.parametrize("name", ["../escape", "usr/../../escape", "./a/../../b"])
def test_dotdot_member_is_refused(name: str) -> None:
    with pytest.raises(
        InventoryError,
        match=rf"^layer evil\.tar: member '{name}' climbs out of the image root with '\.\.': refused",
    ):
        scanned(layer(file(name, "x")), "evil.tar")


def test_dotdot_hard_link_target_is_refused() -> None:
    with pytest.raises(
        InventoryError, match=r"hard link 'etc/shadow'.*member '\.\./\.\./etc/shadow' climbs out"
    ):
        scanned(layer(hardlink("etc/shadow", "../../etc/shadow")), "evil.tar")


def test_symlinks_resolve_inside_the_image_root() -> None:
    view = view_of(
        layer(
            file("usr/lib/os-release", "ID=debian\n"),
            symlink("etc/os-release", "../usr/lib/os-release"),
            symlink("lib", "usr/lib"),
            symlink("opt/current", "/opt/v2"),
            file("opt/v2/model.bin", "weights"),
        )
    )
    assert view.read("etc/os-release") == b"ID=debian\n"
    assert view.read("/lib/os-release") == b"ID=debian\n"
    entry = view.file("/opt/current/model.bin")
    assert entry is not None and entry.path == "opt/v2/model.bin"
    assert view.warnings == ()


def test_symlink_loop_is_a_warning_not_a_hang() -> None:
    view = view_of(layer(symlink("a", "b"), symlink("b", "a"), symlink("self", "self")))
    assert view.file("a/model.bin") is None
    assert view.file("self") is None
    assert view.warnings == (
        "a/model.bin: symlink loop at a -> b; not followed",
        "self: symlink loop at self -> self; not followed",
    )


def test_symlink_escaping_the_root_is_a_warning_and_not_followed() -> None:
    view = view_of(layer(symlink("etc/os-release", "../../../../host/etc/os-release")))
    assert view.read("etc/os-release") is None
    assert view.warnings == (
        "etc/os-release: a symlink on it points above the image root; not followed",
    )


def test_hard_link_in_the_same_layer_shares_bytes_and_hash() -> None:
    view = view_of(
        layer(file("usr/bin/perl5.36", "#!perl"), hardlink("usr/bin/perl", "usr/bin/perl5.36"))
    )
    link, target = view.file("usr/bin/perl"), view.file("usr/bin/perl5.36")
    assert link is not None and target is not None
    assert (link.sha256, link.size, link.data) == (target.sha256, 6, b"#!perl")
    assert link.member == "usr/bin/perl"


def test_hard_link_to_a_lower_layer_file() -> None:
    view = view_of(layer(file("data/a", "bytes")), layer(hardlink("data/b", "data/a")))
    entry = view.file("data/b")
    assert entry is not None and entry.data == b"bytes"


def test_hard_link_to_nothing_is_a_warning() -> None:
    view = view_of(layer(hardlink("data/b", "data/missing")))
    assert view.file("data/b") is None
    assert view.warnings == ("layer layer-0: hard link data/b -> data/missing: no such file",)


def _zstd(data: bytes) -> bytes:
    for name in ("zstandard", "compression.zstd", "backports.zstd"):
        try:
            module: Any = importlib.import_module(name)
        except ImportError:
            continue
        if name == "zstandard":
            return bytes(module.ZstdCompressor().compress(data))
        return bytes(module.compress(data))
    pytest.skip("no zstd module (zstandard, compression.zstd or backports.zstd) is installed")


@pytest.mark.parametrize(("compression", "pack"), [("none", bytes), ("gzip", gz), ("zstd", _zstd)])
def test_compression_is_told_by_magic_bytes(
    compression: str, pack: Callable[[bytes], bytes]
) -> None:
    plain = layer(file("etc/hostname", "model\n"))
    scan = scanned(pack(plain))
    assert scan.compression == compression
    assert scan.diff_id == sha256(plain)  # the diff id is of the uncompressed tar
    assert scan.entries["etc/hostname"].data == b"model\n"


def test_corrupt_gzip_is_an_inventory_error() -> None:
    packed = bytearray(gz(layer(file("etc/hostname", "model\n" * 1000))))
    packed[30:60] = b"\xff" * 30
    with pytest.raises(
        InventoryError,
        match=r"^layer broken\.tar\.gz: (cannot be decompressed|not a readable tar) \(.*(zlib|Error -3).*\); the image is corrupt$",
    ):
        scanned(bytes(packed), "broken.tar.gz")


def test_truncated_gzip_is_an_inventory_error() -> None:
    packed = gz(layer(file("etc/hostname", "model\n" * 1000)))
    with pytest.raises(InventoryError, match=r"^layer cut\.tar\.gz: cannot be decompressed"):
        scanned(packed[: len(packed) // 2], "cut.tar.gz")


def test_not_a_tar_is_an_inventory_error() -> None:
    with pytest.raises(InventoryError, match=r"^layer junk: not a readable tar"):
        scanned(b"this is not a tar archive" * 40, "junk")


def test_a_wanted_file_too_large_to_keep_is_hashed_and_reported() -> None:
    scan = scanned(layer(file("var/lib/dpkg/status", "x" * 100)), max_kept=10)
    entry = scan.entries["var/lib/dpkg/status"]
    assert entry.data is None and entry.sha256 == hashlib.sha256(b"x" * 100).hexdigest()
    assert scan.warnings == ("var/lib/dpkg/status: 100 bytes, too large to read; skipped",)


# --- a model file of 2 GiB, streamed through a generator -----------------------------------

GIB2 = 2 << 30


def _big_layer(size: int) -> Iterator[bytes]:
    info = tarfile.TarInfo("opt/model/big.bin")
    info.size = size
    yield info.tobuf(tarfile.PAX_FORMAT)
    zeros = bytes(1 << 20)
    for _ in range(size // len(zeros)):
        yield zeros
    yield bytes(2 * tarfile.BLOCKSIZE)


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedSource:
    """Layers produced as they are read: nothing of them exists anywhere as a whole."""

    layers: tuple[Callable[[], Iterable[bytes]], ...]

    @property
    def kind(self) -> SourceKind:
        return SourceKind.ROOTFS

    @property
    def reference(self) -> str:
        return "generated"

    def read(self, visit: LayerVisitor) -> SourceImage:
        for i, chunks in enumerate(self.layers):
            stream = io.BufferedReader(IterStream(chunks()), 1 << 20)
            visit(LayerStream(name=f"generated-{i}", media_type=None, stream=stream))
        return SourceImage()


@pytest.mark.slow
def test_a_2gib_model_file_is_hashed_streaming() -> None:
    zeros, expected = bytes(1 << 20), hashlib.sha256()
    for _ in range(GIB2 // len(zeros)):
        expected.update(zeros)
    stored = plan(("/opt/model/big.bin", expected.hexdigest()))
    source = GeneratedSource(layers=(lambda: _big_layer(GIB2), lambda: [layer(file(PLAN, stored))]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    inventory = read_inventory_from(source)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    [artifact] = inventory.artifacts
    assert artifact.verified and artifact.size == GIB2
    assert grown_mib < 256, f"peak memory grew by {grown_mib:.0f} MiB: the file was held"


def _sparse_layer(real_size: int, tail: bytes) -> bytes:
    """A GNU sparse 1.0 member: `real_size` bytes, all a hole but the `tail`, in 10 KiB of tar."""
    sparse_map = f"1\n{real_size - len(tail)}\n{len(tail)}\n".encode()
    block = sparse_map.ljust(tarfile.BLOCKSIZE, b"\0")
    info = tarfile.TarInfo("opt/model/GNUSparseFile.0/big.bin")
    info.size = len(block) + len(tail)
    info.pax_headers = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": "opt/model/big.bin",
        "GNU.sparse.realsize": str(real_size),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(block + tail))
    return out.getvalue()


@pytest.mark.slow
def test_a_2gib_sparse_member_is_hashed_streaming() -> None:
    tail = b"the end of the weights"
    packed = _sparse_layer(GIB2, tail)
    assert len(packed) < 16 << 10
    zeros, expected = bytes(1 << 20), hashlib.sha256()
    for _ in range(GIB2 // len(zeros) - 1):
        expected.update(zeros)
    expected.update(bytes(len(zeros) - len(tail)) + tail)
    entry = scanned(packed).entries["opt/model/big.bin"]
    assert (entry.size, entry.sha256, entry.data) == (GIB2, expected.hexdigest(), None)
