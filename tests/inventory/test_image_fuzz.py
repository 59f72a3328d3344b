"""Property tests of the image readers: whatever the bytes, a value or an imagekit error.

Hypothesis makes layer tars (names that are not UTF-8, hold NULs or climb out, every member
kind, truncated and corrupted streams), index, manifest and config JSON of any shape, and
METADATA, RECORD and dpkg status files of any text. Each reader must return, or raise an
`ImagekitError` (InventoryError, InputError, OciError): never a KeyError, TypeError,
UnicodeError, RecursionError or csv.Error. The examples are derandomized, so CI runs the same.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _inventory_helpers import OS_RELEASE, PLAN, config, file, layer, oci_layout, sha256
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagekit.errors import ImagekitError
from imagekit.image.archive import MAX_LAYER_UNPACKED, gzip_diff_id
from imagekit.image.archive import read_archive as oci_read_archive
from imagekit.image.errors import OciError
from imagekit.image.layout import read_layout
from imagekit.inventory import inventory_of_view, read_inventory, wanted
from imagekit.inventory.interface import LayerStream
from imagekit.inventory.layers import scan_layer, stack
from imagekit.inventory.model import ImageInfo

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SITE = "usr/lib/python3/dist-packages"
INTERESTING = [
    f"{SITE}/x-1.dist-info/METADATA",
    f"{SITE}/x-1.dist-info/RECORD",
    f"{SITE}/x-1.dist-info/direct_url.json",
    f"{SITE}/x-1.dist-info/INSTALLER",
    f"{SITE}/y.egg-info",
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/x",
    "usr/share/doc/x/copyright",
    "usr/local/cuda-12.4/version.json",
    "etc/os-release",
    PLAN,
    "a/.wh.b",
    ".wh.usr",
    "usr/.wh..wh..opq",
    "../escape",
    "/absolute",
    "usr/lib/libcudart.so.12.4.127",
]
IMAGE = ImageInfo(
    reference="fuzz",
    digest=None,
    config_digest=None,
    architecture="amd64",
    os="linux",
    labels={},
    layers=(),
    base_name=None,
    base_digest=None,
)

names = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(min_size=1, max_size=40),
    st.binary(min_size=1, max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.lists(st.sampled_from(["a", "b", "..", ".", "", ".wh.a", "x-1.dist-info"]), max_size=8).map(
        "/".join
    ),
)
kinds = st.sampled_from(
    [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE]
)
contents = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from(
        [
            b"Metadata-Version: 2.1\nName: x\nVersion: " + b"9" * 5000 + b"\n\n",
            b"a.py,sha256=x,1\rb.py,,\n",
            b"Package: p\nStatus: install ok installed\nVersion: 1\n\n",
            b"[" * 5000,
            b'{"cuda": {"version": 12}}',
            OS_RELEASE.encode(),
        ]
    ),
)
member = st.tuples(names, kinds, contents, names)


def tar_of(members: list[tuple[str, bytes, bytes, str]], fmt: int) -> bytes:
    """A tar written as given: names byte for byte (surrogate escapes become raw bytes)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt, errors="surrogateescape") as tar:
        for name, kind, data, link in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return out.getvalue()


def read_layers(*layers: bytes) -> None:
    """Scan, stack and read the layers as the inventory does; only imagekit errors may leave."""
    try:
        scans = [
            scan_layer(LayerStream(name=str(i), media_type=None, stream=io.BytesIO(x)), wanted)
            for i, x in enumerate(layers)
        ]
        inventory = inventory_of_view(IMAGE, stack(scans, (), "fuzz"))
        json.dumps(inventory.to_dict(), ensure_ascii=False).encode("utf-8")
    except ImagekitError:
        pass


@FUZZ
@given(
    st.lists(member, max_size=8),
    st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
    st.sampled_from(["plain", "gzip", "truncated", "flipped"]),
    st.integers(min_value=0, max_value=1 << 16),
)
def test_layer_members(
    members: list[tuple[str, bytes, bytes, str]], fmt: int, damage: str, where: int
) -> None:
    fixed = [(f"{SITE}/x-1.dist-info/METADATA", tarfile.REGTYPE, b"Name: x\nVersion: 1\n", "")]
    try:
        data = tar_of(fixed + members, fmt)
    except (ValueError, UnicodeError):  # tarfile cannot write this name: not an input case
        return
    if damage == "gzip":
        data = gzip.compress(data, mtime=0)
    elif damage == "truncated":
        data = data[: where % (len(data) + 1)]
    elif damage == "flipped" and data:
        at = where % len(data)
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    read_layers(data)


def lines_of(*fragments: str) -> st.SearchStrategy[bytes]:
    """Text made of the fragments a reader looks for and of anything else, as bytes (lone
    surrogates become bytes that are not UTF-8)."""
    pieces = st.one_of(st.sampled_from(fragments), st.text(max_size=8))
    joined = st.lists(pieces, max_size=24).map("".join)
    return joined.map(lambda text: text.encode("utf-8", "surrogatepass"))


METADATA = lines_of(
    "Metadata-Version: 2.4\n",
    "Name: x\n",
    "Version: ",
    "1.0\n",
    "9" * 5000,
    "+cu124\n",
    "License-Expression: MIT OR\n",
    "License: ",
    "Classifier: License :: OSI Approved\n",
    "Requires-Dist: numpy\n",
    " continued\n",
    "\n\n",
    "\r",
    "\udcff",
)
RECORD = lines_of(
    "a.py", ",", "sha256=", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", "\r", "\n", '"'
)
STATUS = lines_of(
    "Package: p\n",
    "Version: ",
    "1:2.3-4\n",
    "9" * 5000,
    "Status: install ok installed\n",
    "Source: s (1)\n",
    "Depends: a | b (>= 1), c:any\n",
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
    "Files: *\n",
    "License: GPL-2+\n",
    " continued\n",
    "\n",
    "#",
    "\udcff",
)


@FUZZ
@given(METADATA, RECORD, STATUS, STATUS)
def test_metadata_record_and_dpkg_status(
    metadata: bytes, record: bytes, status: bytes, copyright_text: bytes
) -> None:
    d = f"{SITE}/x-1.dist-info"
    header = b"Metadata-Version: 2.1\nName: x\nVersion: 1\n"
    read_layers(
        layer(
            file(f"{d}/METADATA", metadata),
            file(f"{d}/RECORD", record),
            file(f"{SITE}/y-1.dist-info/METADATA", header + metadata),
            file(f"{SITE}/y-1.dist-info/RECORD", record),
            file("var/lib/dpkg/status", status),
            file("usr/share/doc/p/copyright", copyright_text),
        )
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [sha256(b"x"), "application/vnd.oci.image.index.v1+json", "sha256:zz", "linux"]
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
DESCRIPTOR_KEYS = st.sampled_from(["mediaType", "digest", "size", "platform", "annotations"])
descriptors = st.dictionaries(DESCRIPTOR_KEYS, json_values, max_size=5)
indexes = st.fixed_dictionaries(
    {
        "schemaVersion": st.sampled_from([2, "2", None]),
        "manifests": st.lists(descriptors, max_size=4) | json_values,
    }
)
manifests = st.fixed_dictionaries(
    {
        "schemaVersion": st.sampled_from([2, 1]),
        "config": descriptors | json_values,
        "layers": st.lists(descriptors, max_size=3) | json_values,
    }
)
configs = st.dictionaries(
    st.sampled_from(["architecture", "os", "config", "rootfs", "history", "created"]),
    json_values,
    max_size=6,
)


def read_oci(root: Path) -> None:
    for read in (lambda: read_inventory(str(root)), lambda: read_layout(root)):
        with contextlib.suppress(ImagekitError):
            read()


@FUZZ
@given(indexes, manifests, configs, st.booleans())
def test_index_manifest_and_config_json(
    index: dict[str, Any], manifest: dict[str, Any], image_config: dict[str, Any], real: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        desc = oci_layout(root, [layer(file("etc/os-release", OS_RELEASE))])
        blobs = root / "blobs/sha256"
        for doc in (manifest, image_config):
            data = json.dumps(doc).encode()
            (blobs / sha256(data)[7:]).write_bytes(data)
        if real:  # the real manifest, pointing at the fuzzed config
            data = json.dumps(image_config).encode()
            manifest = json.loads((blobs / desc["digest"][7:]).read_bytes())
            manifest["config"] = {"digest": sha256(data), "size": len(data)}
            data = json.dumps(manifest).encode()
            index["manifests"] = [{"mediaType": "", "digest": sha256(data), "size": len(data)}]
            (blobs / sha256(data)[7:]).write_bytes(data)
        (root / "index.json").write_text(json.dumps(index))
        read_oci(root)


@FUZZ
@given(json_values, configs, st.booleans(), json_values)
def test_docker_archive_json(
    manifest_json: Any, image_config: dict[str, Any], real: bool, index: Any
) -> None:
    base = layer(file("etc/os-release", OS_RELEASE))
    cfg = json.dumps(image_config).encode() if not real else config([base])
    cfg_name = f"blobs/sha256/{sha256(cfg)[7:]}"
    if real:
        manifest_json = [{"Config": cfg_name, "Layers": [f"blobs/sha256/{sha256(base)[7:]}"]}]
    members = [
        file(f"blobs/sha256/{sha256(base)[7:]}", base),
        file(cfg_name, cfg),
        file("manifest.json", json.dumps(manifest_json)),
        file("index.json", json.dumps(index)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "image.tar"
        archive.write_bytes(layer(*members))
        for read in (
            lambda: read_inventory(str(archive)),
            lambda: oci_read_archive(archive, Path(tmp) / "oci", "fuzz:1"),
        ):
            with contextlib.suppress(ImagekitError):
                read()


# --- cases the fuzzers found in the OCI readers, by name ---------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_read_layout_refuses_a_deep_index_in_one_line(tmp_path: Path) -> None:
    oci_layout(tmp_path, [layer(file("etc/os-release", OS_RELEASE))])
    (tmp_path / "index.json").write_bytes(b'{"manifests": ' + DEEP + b"}")
    with pytest.raises(
        OciError, match=rf"^{tmp_path}/index\.json: JSON nested deeper than 128 levels \("
    ):
        read_layout(tmp_path)


def test_read_layout_refuses_a_layer_that_is_not_a_descriptor(tmp_path: Path) -> None:
    desc = oci_layout(tmp_path, [layer(file("etc/os-release", OS_RELEASE))])
    manifest = json.loads((tmp_path / "blobs/sha256" / desc["digest"][7:]).read_bytes())
    manifest["layers"] = ["sha256:not-a-descriptor"]
    data = json.dumps(manifest).encode()
    (tmp_path / "blobs/sha256" / sha256(data)[7:]).write_bytes(data)
    index = {"manifests": [{"digest": sha256(data), "size": len(data)}]}
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(OciError, match=r": layers\[0\]: a descriptor must be an object$"):
        read_layout(tmp_path)


def test_oci_read_archive_refuses_a_deep_manifest_json(tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    archive.write_bytes(layer(file("manifest.json", DEEP)))
    with pytest.raises(
        OciError,
        match=rf"^{archive}: manifest\.json: JSON nested deeper than 128 levels \(.*\)$",
    ):
        oci_read_archive(archive, tmp_path / "oci", "fuzz:1")


def test_a_gzip_layer_of_a_docker_archive_is_unpacked_to_a_bound(tmp_path: Path) -> None:
    bomb = tmp_path / "layer.tar.gz"
    bomb.write_bytes(gzip.compress(bytes(4 << 20), mtime=0))
    with pytest.raises(
        OciError,
        match=r"^bomb unpacks to more than 1048576 bytes \(MAX_LAYER_UNPACKED\); a compressed "
        "bomb is refused$",
    ):
        gzip_diff_id(bomb, "bomb", limit=1 << 20)
    assert MAX_LAYER_UNPACKED == 64 << 30
