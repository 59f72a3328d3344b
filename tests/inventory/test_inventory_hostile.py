"""Hostile images: every one is one line of error or a warning, in bounded time and memory.

Each image is built here, small, with tarfile and json: nested and repeated indexes, deep JSON,
kept files past their bounds, a gzip bomb, trees deeper than Python's recursion limit, a RECORD
that is not CSV, a version of thousands of digits, member names that are not text.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from _inventory_helpers import (
    OS_RELEASE,
    PLAN,
    docker_archive,
    file,
    gz,
    layer,
    oci_layout,
    sha256,
    view_of,
)

from imagekit.diff.inputs import load_snapshot
from imagekit.errors import InputError
from imagekit.image.index import MAX_DESCRIPTORS, MAX_INDEX_DEPTH
from imagekit.inventory import (
    DigestKind,
    InventoryError,
    read_inventory,
    read_inventory_from,
    wanted,
)
from imagekit.inventory.dpkg import MAX_STATUS, read_debs
from imagekit.inventory.interface import LayerStream
from imagekit.inventory.layers import (
    MAX_UNPACKED,
    UNPACKED_VARIABLE,
    Budget,
    scan_layer,
)
from imagekit.inventory.python import METADATA_HEAD, read_python
from imagekit.inventory.sources import DockerArchiveSource, OciLayoutSource, RootfsSource
from imagekit.licenses.components import read_sbom
from imagekit.limits import MAX_SBOM_DOCUMENT
from imagekit.vulns.targets import load_target

SITE = "usr/lib/python3/dist-packages"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BASE = layer(file("usr/lib/os-release", OS_RELEASE))


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail the test if the block runs longer than `seconds` (the old readers hung)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def metadata(name: str, version: str, body: str = "Body\n") -> bytes:
    return f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n\n{body}".encode()


def blob(root: Path, data: bytes) -> dict[str, Any]:
    digest = sha256(data)
    (root / "blobs/sha256").mkdir(parents=True, exist_ok=True)
    (root / "blobs/sha256" / digest[7:]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def index_over(root: Path, target: dict[str, Any], fan_out: int) -> dict[str, Any]:
    """An index blob naming `target` `fan_out` times; its descriptor."""
    doc = {"schemaVersion": 2, "manifests": [target] * fan_out}
    return {"mediaType": INDEX, **blob(root, json.dumps(doc).encode())}


def nested_layout(root: Path, depth: int, fan_out: int) -> dict[str, Any]:
    """An OCI layout whose index.json reaches one image through `depth` indexes, each naming
    the next `fan_out` times (2^30 paths for depth 30, fan-out 2, in 152 KB)."""
    target = oci_layout(root, [BASE])
    for _ in range(depth):
        target = index_over(root, target, fan_out)
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [target]}))
    return target


# --- nested indexes ----------------------------------------------------------------------------


def test_indexes_named_many_times_are_each_followed_once(tmp_path: Path) -> None:
    # 16^7 = 268 million paths to the one image; followed once each, 7 indexes are read.
    nested_layout(tmp_path, MAX_INDEX_DEPTH - 1, 16)
    with within(10):
        inventory = read_inventory(str(tmp_path))
    assert inventory.image.layers == (sha256(BASE),)
    assert inventory.os_release is not None


def test_indexes_nested_past_the_depth_bound_are_one_error(tmp_path: Path) -> None:
    # The 152 KB layout of the report: fan-out 2, depth 30.
    nested_layout(tmp_path, 30, 2)
    with within(10), pytest.raises(InventoryError) as caught:
        read_inventory(str(tmp_path))
    message = str(caught.value)
    assert message.startswith(
        f"{tmp_path}: image indexes nested deeper than {MAX_INDEX_DEPTH} levels "
        "(MAX_INDEX_DEPTH) at index sha256:"
    )
    assert message.endswith("; it is malformed or hostile") and "\n" not in message


def test_three_thousand_nested_indexes_are_one_error_not_a_recursion_error(
    tmp_path: Path,
) -> None:
    nested_layout(tmp_path, 3000, 1)
    with pytest.raises(InventoryError, match=r"nested deeper than 8 levels \(MAX_INDEX_DEPTH\)"):
        read_inventory(str(tmp_path))


def test_an_index_naming_too_many_descriptors_is_one_error(tmp_path: Path) -> None:
    target = oci_layout(tmp_path, [BASE])
    many = [{**target, "digest": f"sha256:{i:064x}"} for i in range(MAX_DESCRIPTORS)]
    (tmp_path / "index.json").write_text(json.dumps({"manifests": [target, *many]}))
    with pytest.raises(
        InventoryError,
        match=rf"^{tmp_path}: its indexes name more than {MAX_DESCRIPTORS} descriptors "
        r"\(MAX_DESCRIPTORS\); no real image has this many: it is malformed or hostile$",
    ):
        read_inventory(str(tmp_path))


# --- deep JSON ---------------------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_deep_index_json_is_one_error(tmp_path: Path) -> None:
    oci_layout(tmp_path, [BASE])
    (tmp_path / "index.json").write_bytes(b'{"manifests": ' + DEEP + b"}")
    with pytest.raises(
        InventoryError, match=rf"{tmp_path}/index\.json: JSON nested deeper than 128 levels "
    ):
        read_inventory(str(tmp_path))


def test_deep_config_in_a_docker_archive_is_one_error(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "image.tar", [BASE])
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m)) for m in tar.getmembers()]
        contents = {m.name: f.read() if f else b"" for m, f in members}
    config = next(name for name in contents if name.endswith(".json") and name[0] != "m")
    contents[config] = b'{"rootfs": ' + DEEP + b"}"
    manifest = json.loads(contents["manifest.json"])
    manifest[0]["Config"] = "deep.json"
    contents["deep.json"] = contents.pop(config)
    contents["manifest.json"] = json.dumps(manifest).encode()
    archive.write_bytes(layer(*(file(n, d) for n, d in contents.items())))
    with pytest.raises(InventoryError, match=r": deep\.json: JSON nested deeper than 128 levels"):
        read_inventory(str(archive))


def test_deep_json_files_inside_the_image_are_warnings() -> None:
    d = f"{SITE}/x-1.dist-info"
    view = view_of(
        layer(
            file(PLAN, DEEP),
            file(f"{d}/METADATA", metadata("x", "1")),
            file(f"{d}/direct_url.json", DEEP),
            file("usr/local/cuda-12.4/version.json", DEEP),
        )
    )
    [dist] = read_python(view)
    assert dist.direct_url is None
    assert view.json_object(view.read(PLAN), "/" + PLAN) is None
    assert view.warnings == (
        f"/{d}/direct_url.json: not valid JSON (JSON nested deeper than 128 levels); ignored",
        f"/{PLAN}: not valid JSON (JSON nested deeper than 128 levels); ignored",
    )


# --- bytes kept and bytes unpacked -------------------------------------------------------------


def test_only_the_head_of_a_long_metadata_file_is_kept() -> None:
    text = metadata("big", "1", "x" * (3 * METADATA_HEAD))
    view = view_of(layer(file(f"{SITE}/big-1.dist-info/METADATA", text)))
    entry = view.file(f"{SITE}/big-1.dist-info/METADATA")
    assert entry is not None and entry.data is not None
    assert (len(entry.data), entry.size) == (METADATA_HEAD, len(text))
    [dist] = read_python(view)
    assert (dist.name, dist.version) == ("big", "1")
    assert view.warnings == ()


def test_a_metadata_head_cut_inside_a_letter_is_still_read() -> None:
    headers = metadata("cut", "2", "").decode()
    text = headers + "é" * METADATA_HEAD  # two bytes each: the head ends inside one
    view = view_of(layer(file(f"{SITE}/cut-2.dist-info/METADATA", text)))
    [dist] = read_python(view)
    assert (dist.name, dist.version) == ("cut", "2")
    assert view.warnings == ()


def test_files_kept_past_the_image_budget_are_one_error() -> None:
    heads = [
        file(f"{SITE}/p{i}-1.dist-info/METADATA", metadata(f"p{i}", "1", "x" * 300_000))
        for i in range(5)
    ]
    budget = Budget(max_kept=1_000_000)
    stream = LayerStream(name="many", media_type=None, stream=io.BytesIO(gz(layer(*heads))))
    with pytest.raises(
        InventoryError,
        match=rf"^layer many: {SITE}/p3-1\.dist-info/METADATA: the files the inventory reads add "
        r"up to more than 1000000 bytes \(MAX_KEPT_TOTAL\); no real image keeps this much: "
        r"the image is malformed or hostile$",
    ):
        scan_layer(stream, wanted, budget=budget)


def test_the_image_budget_is_shared_by_its_layers() -> None:
    one = layer(file(f"{SITE}/a-1.dist-info/METADATA", metadata("a", "1", "x" * 600_000)))
    two = layer(file(f"{SITE}/b-1.dist-info/METADATA", metadata("b", "1", "x" * 600_000)))
    budget = Budget(max_kept=1_000_000)
    scan_layer(
        LayerStream(name="1", media_type=None, stream=io.BytesIO(one)), wanted, budget=budget
    )
    with pytest.raises(InventoryError, match=r"^layer 2: .* more than 1000000 bytes"):
        scan_layer(
            LayerStream(name="2", media_type=None, stream=io.BytesIO(two)), wanted, budget=budget
        )


def test_a_dpkg_status_larger_than_its_bound_is_a_warning() -> None:
    stanza = "Package: p\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"
    text = stanza * (MAX_STATUS // len(stanza) + 1)
    view = view_of(layer(file("var/lib/dpkg/status", text)))
    assert read_debs(view) == ()
    assert view.warnings[0] == (
        f"layer layer-0: var/lib/dpkg/status: {len(text)} bytes, too large to read; skipped"
    )


def gzip_bomb(unpacked: int) -> bytes:
    """A gzip layer holding one file of `unpacked` zero bytes, compressed as it is made."""
    info = tarfile.TarInfo("zeros")
    info.size = unpacked
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(info.tobuf(tarfile.PAX_FORMAT))]
    zeros = bytes(1 << 20)
    for _ in range(unpacked >> 20):
        parts.append(packer.compress(zeros))
    parts.append(packer.compress(bytes(2 * tarfile.RECORDSIZE)))
    parts.append(packer.flush())
    return b"".join(parts)


class Counting(io.RawIOBase):
    """A stream that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._data.readinto(buffer)
        self.read_bytes += n
        return n


def test_a_gzip_bomb_stops_at_the_unpacked_bound() -> None:
    bomb = gzip_bomb(64 << 20)  # 64 MiB of zeros in about 65 kB
    counted = Counting(bomb)
    stream = LayerStream(name="bomb", media_type=None, stream=io.BufferedReader(counted))
    with pytest.raises(
        InventoryError,
        match=rf"^layer bomb: the image unpacks to more than {1 << 20} bytes \(MAX_UNPACKED; "
        rf"set \${UNPACKED_VARIABLE} to read a larger image\); not read further$",
    ):
        scan_layer(stream, wanted, budget=Budget(max_unpacked=1 << 20))
    assert counted.read_bytes < len(bomb) // 2  # stopped early: most of it never unpacked


def test_the_unpacked_bound_is_set_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Budget.from_environment().max_unpacked == MAX_UNPACKED == 64 << 30
    oci_layout(tmp_path, [BASE, layer(file("opt/zeros", bytes(3 << 20)))])
    monkeypatch.setenv(UNPACKED_VARIABLE, str(2 << 20))
    with pytest.raises(InventoryError, match=r"the image unpacks to more than 2097152 bytes"):
        read_inventory(str(tmp_path))
    monkeypatch.setenv(UNPACKED_VARIABLE, "lots")
    with pytest.raises(
        InventoryError,
        match=rf"^{tmp_path}: \$IMAGEKIT_MAX_IMAGE_BYTES=lots is not a positive number of bytes ",
    ):
        read_inventory(str(tmp_path))


# --- deep trees --------------------------------------------------------------------------------

DEPTH = 1200


@pytest.fixture
def deep_tree() -> Iterator[Path]:
    """A root file system with a file 1,200 directories down. It lives outside pytest's
    tmp_path and is removed one level at a time, whatever happens: shutil.rmtree (and so
    pytest's clean-up of old temporary folders) recurses per level and fails on it."""
    root = Path(tempfile.mkdtemp(prefix="imagekit-deep-"))
    levels = [root]
    try:
        for _ in range(DEPTH):
            levels.append(levels[-1] / "d")
            levels[-1].mkdir()
        (levels[-1] / "leaf").write_text("leaf")
        (root / "etc").mkdir()
        (root / "etc/os-release").write_text(OS_RELEASE)
        yield root
    finally:
        (levels[-1] / "leaf").unlink(missing_ok=True)
        for level in reversed(levels[1:]):
            level.rmdir()
        shutil.rmtree(root)


def test_a_root_file_system_1200_directories_deep(deep_tree: Path) -> None:
    seen: list[str] = []

    def visit(stream: LayerStream) -> None:
        scan = scan_layer(stream, wanted)
        seen.extend(p for p in scan.entries if p.endswith("/leaf"))

    RootfsSource(path=deep_tree).read(visit)
    assert seen == ["/".join(["d"] * DEPTH + ["leaf"])]
    inventory = read_inventory(str(deep_tree))
    assert inventory.os_release is not None


def test_a_whiteout_of_a_tree_1200_directories_deep() -> None:
    deep = "/".join(["d"] * DEPTH)
    lower = layer(file(f"{deep}/leaf", "x"), file("keep", "k"))
    upper = layer(file(".wh.d"))
    view = view_of(lower, upper)
    assert sorted(view.entries) == ["keep"]


def test_a_file_over_a_tree_1200_directories_deep() -> None:
    deep = "/".join(["d"] * DEPTH)
    view = view_of(layer(file(f"{deep}/leaf", "x")), layer(file("d", "now a file")))
    assert sorted(view.entries) == ["d"]


# --- RECORD, versions --------------------------------------------------------------------------


def test_a_record_with_a_lone_carriage_return_is_a_warning() -> None:
    bad, good = f"{SITE}/bad-1.dist-info", f"{SITE}/good-1.dist-info"
    view = view_of(
        layer(
            file(f"{bad}/METADATA", metadata("bad", "1")),
            file(f"{bad}/RECORD", "bad/a.py,sha256=x,1\rbad/b.py,,\n"),
            file(f"{good}/METADATA", metadata("good", "1")),
        )
    )
    assert [(d.name, d.record) for d in read_python(view)] == [("bad", ()), ("good", ())]
    assert view.warnings == (
        f"/{bad}/RECORD: not a CSV file (new-line character seen in unquoted field - do you "
        "need to open the file in universal-newline mode?); its file hashes are not read",
    )


def test_a_version_of_5000_digits_is_a_warning_and_the_others_are_read(tmp_path: Path) -> None:
    huge = "1" * 5000
    image = layer(
        file(f"{SITE}/huge-1.dist-info/METADATA", metadata("huge", huge)),
        file(f"{SITE}/torch-2.dist-info/METADATA", metadata("torch", "2.5.1+cu124")),
        file(
            "var/lib/dpkg/status",
            f"Package: big\nStatus: install ok installed\nVersion: {huge}\n\n"
            "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n",
        ),
    )
    oci_layout(tmp_path, [image])
    inventory = read_inventory(str(tmp_path))
    assert [d.name for d in inventory.python] == ["torch"]
    assert [d.name for d in inventory.debs] == ["libc6"]
    assert [c.cuda_version for c in inventory.cuda] == ["12.4"]
    assert inventory.warnings == (
        f"/{SITE}/huge-1.dist-info/METADATA: version of 5000 characters ({'1' * 40}… "
        "(5000 characters)) is longer than 256 (use the package's real version); not counted "
        "as a distribution",
        f"/var/lib/dpkg/status:1: version of 5000 characters ({'1' * 40}… (5000 characters)) "
        "is longer than 256 (use the package's real version); package big skipped",
    )


# --- names that are not text -------------------------------------------------------------------


def named_layer(members: list[tuple[str, bytes]], **pax: str) -> bytes:
    """A layer whose member names are written byte for byte (not UTF-8 ones included)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if not pax:
        return out.getvalue()
    with_pax = io.BytesIO()
    with tarfile.open(fileobj=with_pax, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo("placeholder")
            info.size = len(data)
            info.pax_headers = {"path": pax.get(name, name)}
            tar.addfile(info, io.BytesIO(data))
    return with_pax.getvalue()


def test_member_names_that_are_not_utf8_are_reported_escaped(tmp_path: Path) -> None:
    name = f"{SITE}/caf\udce9-1.dist-info/METADATA"  # the byte 0xe9 alone: Latin-1, not UTF-8
    oci_layout(tmp_path, [named_layer([(name, metadata("cafe", "1"))])])
    inventory = read_inventory(str(tmp_path))
    [dist] = inventory.python
    assert dist.metadata_path == f"/{SITE}/caf\\xe9-1.dist-info"
    json.dumps(inventory.to_dict(), ensure_ascii=False).encode("utf-8")  # printable, encodable


def test_a_nul_and_a_newline_in_member_names_are_escaped(tmp_path: Path) -> None:
    name = f"{SITE}/x-1.dist-info/METADATA"
    hostile = f"{SITE}/x\x00\n-1.dist-info/METADATA"
    oci_layout(tmp_path, [named_layer([(name, metadata("x", "1"))], **{name: hostile})])
    [dist] = read_inventory(str(tmp_path)).python
    assert dist.metadata_path == f"/{SITE}/x\\x00\\x0a-1.dist-info"


# --- the digest an image is identified by ------------------------------------------------------


def docker25_archive(path: Path, layout: Path, descriptor: dict[str, Any]) -> None:
    """The `docker save` of Docker 25+ for the image of `layout`: its blobs, its index.json,
    and manifest.json naming the config and layers by their blob paths."""
    manifest = json.loads((layout / "blobs/sha256" / descriptor["digest"][7:]).read_bytes())
    members = [
        file(f"blobs/sha256/{p.name}", p.read_bytes())
        for p in sorted((layout / "blobs/sha256").iterdir())
    ]
    blob_name = "blobs/sha256/{}".format
    entry = {
        "Config": blob_name(manifest["config"]["digest"][7:]),
        "RepoTags": ["test/image:1"],
        "Layers": [blob_name(x["digest"][7:]) for x in manifest["layers"]],
    }
    members.append(file("index.json", (layout / "index.json").read_bytes()))
    members.append(file("manifest.json", json.dumps([entry])))
    path.write_bytes(layer(*members))


def test_an_archive_and_a_layout_of_one_image_report_the_same_digest(tmp_path: Path) -> None:
    descriptor = oci_layout(tmp_path / "oci", [BASE], compress=False)
    docker25_archive(tmp_path / "image.tar", tmp_path / "oci", descriptor)
    from_layout = read_inventory_from(OciLayoutSource(path=tmp_path / "oci"))
    from_archive = read_inventory_from(DockerArchiveSource(path=tmp_path / "image.tar"))
    assert from_archive.image.digest == from_layout.image.digest == descriptor["digest"]
    assert from_archive.image.digest_kind == from_layout.image.digest_kind == DigestKind.MANIFEST
    assert from_archive.image.config_digest == from_layout.image.config_digest


def test_an_archive_of_one_platform_of_a_multi_platform_image(tmp_path: Path) -> None:
    """Docker's containerd store saves the index and only the platform it holds."""
    layout = tmp_path / "oci"
    amd64 = oci_layout(layout, [BASE], compress=False)
    arm64 = {
        **amd64,
        "digest": f"sha256:{'a' * 64}",
        "platform": {"os": "linux", "architecture": "arm64"},
    }
    index = index_over(layout, amd64, 1)
    doc = json.loads((layout / "blobs/sha256" / index["digest"][7:]).read_bytes())
    doc["manifests"].append(arm64)
    index = {"mediaType": INDEX, **blob(layout, json.dumps(doc).encode())}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [index]}))
    docker25_archive(tmp_path / "image.tar", layout, amd64)
    inventory = read_inventory(str(tmp_path / "image.tar"))
    assert (inventory.image.digest, inventory.image.digest_kind) == (amd64["digest"], "manifest")


def test_an_archive_without_index_json_is_identified_by_its_image_id(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "image.tar", [BASE])
    inventory = read_inventory(str(archive))
    image = inventory.image
    assert (image.digest, image.digest_kind) == (image.config_digest, DigestKind.IMAGE_ID)
    assert inventory.to_dict()["image"]["digest_kind"] == "image-id"


def test_a_root_file_system_has_no_digest(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    image = read_inventory(str(tmp_path)).image
    assert (image.digest, image.digest_kind) == (None, "")


# --- SBOMs and inventories read beside images --------------------------------------------------


def test_a_deep_sbom_is_one_error_for_diff_scan_and_licences(tmp_path: Path) -> None:
    path = tmp_path / "deep.cdx.json"
    path.write_bytes(b'{"bomFormat": "CycloneDX", "components": ' + DEEP + b"}")
    message = rf"^{path}: not JSON: JSON nested deeper than 128 levels \(pass a "
    with pytest.raises(InputError, match=message):
        load_snapshot(str(path))
    with pytest.raises(InputError, match=message):
        read_sbom(path)
    with pytest.raises(InputError, match=message):
        load_target(str(path))


def test_an_sbom_larger_than_any_real_one_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.cdx.json"
    with path.open("wb") as f:  # sparse: nothing is written but its size
        f.truncate(MAX_SBOM_DOCUMENT + 1)
    message = rf"^{path}: {MAX_SBOM_DOCUMENT + 1} bytes, more than any SBOM \({MAX_SBOM_DOCUMENT}\)"
    with pytest.raises(InputError, match=message):
        load_snapshot(str(path))
    with pytest.raises(InputError, match=message):
        read_sbom(path)


def test_a_hostile_member_name_is_echoed_short_and_on_one_line() -> None:
    name = "/" + "a\n\x1b[2J" * 100_000  # 600 kB of newlines and terminal escapes
    stream = LayerStream(name="evil", media_type=None, stream=io.BytesIO(layer(file(name))))
    with pytest.raises(InventoryError) as caught:
        scan_layer(stream, wanted)
    message = str(caught.value)
    assert message.startswith("layer evil: member '/a\\n\\x1b[2Ja\\n")
    assert "(600001 characters)' has an absolute path: refused" in message
    assert len(message) < 500 and message.isprintable()
