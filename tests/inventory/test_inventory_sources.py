"""Image sources: OCI layouts, docker archives (both layouts), root file systems, the daemon."""

from __future__ import annotations

import gzip
import json
import os
import tarfile
from pathlib import Path

import pytest
from _inventory_helpers import (
    OS_RELEASE,
    PLAN,
    docker_archive,
    file,
    gz,
    layer,
    oci_layout,
    plan,
    sha256,
    symlink,
)

from imagekit.inventory import Inventory, InventoryError, read_inventory, read_inventory_from
from imagekit.inventory.interface import LayerStream
from imagekit.inventory.sources import (
    DaemonSource,
    DockerArchiveSource,
    OciLayoutSource,
    SourceKind,
    kind_of,
    make_source,
)

WEIGHTS = b"model weights"
BASE = layer(
    file("usr/lib/os-release", OS_RELEASE),
    symlink("etc/os-release", "../usr/lib/os-release"),
    file("opt/model/old.bin", "stale"),
)
TOP = layer(
    file("opt/model/.wh.old.bin"),
    file("opt/model/model.bin", WEIGHTS),
    file(PLAN, plan(("/opt/model/model.bin", sha256(WEIGHTS)[7:]))),
)


def check(inventory: Inventory) -> None:
    """What every source of the BASE + TOP image must read."""
    assert inventory.os_release is not None and inventory.os_release.codename == "bookworm"
    [artifact] = inventory.artifacts
    assert artifact.verified and artifact.size == len(WEIGHTS)
    assert inventory.image.layers == (sha256(BASE), sha256(TOP))
    assert inventory.image.labels == {"org.opencontainers.image.base.name": "scratch"}
    assert inventory.image.base_name == "scratch"
    assert inventory.warnings == ()


@pytest.mark.parametrize("kind", list(SourceKind))
def test_every_source_kind_has_a_source(kind: SourceKind, tmp_path: Path) -> None:
    source = make_source(kind, str(tmp_path))
    assert source.kind is kind
    assert source.reference == str(tmp_path)


def test_kind_of_tells_a_reference_by_what_it_is(tmp_path: Path) -> None:
    oci = tmp_path / "oci"
    oci.mkdir()
    (oci / "oci-layout").write_text("{}")
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    assert kind_of(str(oci)) is SourceKind.OCI_LAYOUT
    assert kind_of(str(tmp_path)) is SourceKind.ROOTFS
    assert kind_of(str(archive)) is SourceKind.DOCKER_ARCHIVE
    assert kind_of("inventory-test/iris:1") is SourceKind.DAEMON
    missing = tmp_path / "missing.tar"
    with pytest.raises(InventoryError, match=rf"^{missing}: file not found \(correct the path\)$"):
        kind_of(str(missing))


@pytest.mark.parametrize("compress", [True, False])
def test_oci_layout(tmp_path: Path, compress: bool) -> None:
    desc = oci_layout(tmp_path / "oci", [BASE, TOP], compress=compress)
    inventory = read_inventory(str(tmp_path / "oci"))
    check(inventory)
    assert inventory.image.digest == desc["digest"]
    assert inventory.image.source_kind == "oci-layout"


def test_oci_blob_that_does_not_match_its_digest_names_the_blob(tmp_path: Path) -> None:
    desc = oci_layout(tmp_path / "oci", [BASE, TOP])
    manifest = json.loads((tmp_path / "oci/blobs/sha256" / desc["digest"][7:]).read_bytes())
    digest = manifest["layers"][1]["digest"]
    blob = tmp_path / "oci/blobs/sha256" / digest[7:]
    blob.write_bytes(gz(layer(file("opt/model/model.bin", "tampered"))))
    with pytest.raises(
        InventoryError,
        match=rf"^{tmp_path}/oci: blobs/sha256/{digest[7:]}: content has digest sha256:[0-9a-f]{{64}}, expected {digest} ",
    ):
        read_inventory(str(tmp_path / "oci"))


def test_oci_missing_blob(tmp_path: Path) -> None:
    desc = oci_layout(tmp_path / "oci", [BASE, TOP])
    manifest = json.loads((tmp_path / "oci/blobs/sha256" / desc["digest"][7:]).read_bytes())
    (tmp_path / "oci/blobs/sha256" / manifest["layers"][0]["digest"][7:]).unlink()
    with pytest.raises(
        InventoryError,
        match=r"blob sha256:[0-9a-f]{64} is missing from blobs/sha256/ \(copy the whole layout again\)$",
    ):
        read_inventory(str(tmp_path / "oci"))


def test_oci_index_picks_the_platform(tmp_path: Path) -> None:
    arm = layer(file("etc/arch", "arm64"))
    oci_layout(tmp_path / "oci", [layer(file("etc/arch", "amd64"))], platform="linux/amd64")
    oci_layout(tmp_path / "oci", [arm], platform="linux/arm64")
    source = OciLayoutSource(path=tmp_path / "oci", platform="linux/arm64")
    assert read_inventory_from(source).image.layers == (sha256(arm),)
    assert read_inventory_from(source).image.architecture == "arm64"
    with pytest.raises(
        InventoryError,
        match=r"no manifest for platform linux/s390x \(it has linux/amd64, linux/arm64\): pass --platform$",
    ):
        read_inventory(str(tmp_path / "oci"), platform="linux/s390x")


def test_oci_nested_index(tmp_path: Path) -> None:
    """buildx writes index.json -> an image index -> one manifest per platform."""
    root = tmp_path / "oci"
    inner = oci_layout(root, [BASE, TOP])
    nested = json.dumps({"schemaVersion": 2, "manifests": [inner]}).encode()
    blob = root / "blobs/sha256" / sha256(nested)[7:]
    blob.write_bytes(nested)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": sha256(nested),
                "size": len(nested),
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    check(read_inventory(str(root)))


@pytest.mark.parametrize("blobs", [False, True], ids=["classic", "docker25-blobs"])
def test_docker_archive(tmp_path: Path, blobs: bool) -> None:
    archive = docker_archive(tmp_path / "image.tar", [BASE, TOP], blobs=blobs)
    inventory = read_inventory(str(archive))
    check(inventory)
    assert inventory.image.source_kind == "docker-archive"
    assert inventory.image.digest == inventory.image.config_digest


def test_gzipped_docker_archive(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "image.tar", [BASE, TOP])
    packed = tmp_path / "image.tar.gz"
    packed.write_bytes(gzip.compress(archive.read_bytes()))
    check(read_inventory(str(packed)))


def test_docker_archive_with_one_layer_twice(tmp_path: Path) -> None:
    empty = layer()
    archive = docker_archive(tmp_path / "image.tar", [BASE, empty, TOP, empty], blobs=True)
    inventory = read_inventory(str(archive))
    assert inventory.image.layers == (sha256(BASE), sha256(empty), sha256(TOP), sha256(empty))
    assert inventory.artifacts[0].verified


def test_docker_archive_missing_a_layer(tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    docker_archive(archive, [BASE, TOP])
    manifest = [{"Config": "x.json", "Layers": ["missing/layer.tar"]}]
    archive.write_bytes(
        layer(
            file("x.json", json.dumps({"rootfs": {"diff_ids": []}})),
            file("manifest.json", json.dumps(manifest)),
        )
    )
    with pytest.raises(
        InventoryError, match=rf"^{archive}: layer missing/layer.tar is missing from the archive$"
    ):
        read_inventory(str(archive))


def test_docker_archive_whose_layer_is_not_the_configs(tmp_path: Path) -> None:
    other = layer(file("x"))
    archive = docker_archive(tmp_path / "image.tar", [BASE, TOP], config_of=[BASE, other])
    with pytest.raises(
        InventoryError,
        match=rf"^{archive}: the config lists layer {sha256(other)}, which no layer of the image holds \(layers read: ",
    ):
        read_inventory(str(archive))


def test_not_a_docker_archive(tmp_path: Path) -> None:
    path = tmp_path / "notes.tar"
    path.write_bytes(layer(file("README", "hello")))
    with pytest.raises(
        InventoryError, match=rf"^{path}: no manifest.json: not a `docker save` archive$"
    ):
        read_inventory(str(path))
    path.write_bytes(b"plain text, not a tar at all" * 30)
    with pytest.raises(InventoryError, match=rf"^{path}: not a readable tar archive"):
        read_inventory(str(path))


def test_docker_archive_with_several_images_needs_a_name(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "image.tar", [BASE, TOP])
    one = json.loads(_member(archive, "manifest.json"))[0]
    two = dict(one, RepoTags=["test/other:2"])
    rewritten = tmp_path / "two.tar"
    rewritten.write_bytes(
        _replace_member(archive, "manifest.json", json.dumps([one, two]).encode())
    )
    with pytest.raises(
        InventoryError,
        match=r"manifest.json lists 2 images \(test/image:1, test/other:2\): name one$",
    ):
        read_inventory(str(rewritten))
    check(read_inventory_from(DockerArchiveSource(path=rewritten, image="test/other:2")))


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        content = tar.extractfile(name)
        assert content is not None
        return content.read()


def _replace_member(archive: Path, name: str, data: bytes) -> bytes:
    with tarfile.open(archive) as tar:
        members = []
        for m in tar.getmembers():
            content = tar.extractfile(m)
            members.append(
                file(m.name, data if m.name == name else content.read() if content else b"")
            )
    return layer(*members)


def test_rootfs_directory(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "usr/lib").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "opt/model").mkdir(parents=True)
    (root / "usr/share/imagekit").mkdir(parents=True)
    (root / "usr/lib/os-release").write_text(OS_RELEASE)
    (root / "etc/os-release").symlink_to("../usr/lib/os-release")
    (root / "opt/model/model.bin").write_bytes(WEIGHTS)
    os.link(root / "opt/model/model.bin", root / "opt/model/same.bin")
    # An absolute symlink means the image's /etc/passwd, never this machine's.
    (root / "etc/passwd-link").symlink_to("/etc/passwd")
    (root / PLAN).write_bytes(
        plan(
            ("/opt/model/model.bin", sha256(WEIGHTS)[7:]),
            ("/opt/model/same.bin", sha256(WEIGHTS)[7:]),
            ("/etc/passwd-link", "0" * 64),
        )
    )
    inventory = read_inventory(str(root))
    assert inventory.image.source_kind == "rootfs"
    assert inventory.os_release is not None and inventory.os_release.id == "debian"
    by_path = {a.path: a for a in inventory.artifacts}
    assert by_path["/opt/model/model.bin"].verified
    assert by_path["/opt/model/same.bin"].verified
    assert by_path["/etc/passwd-link"].actual_sha256 is None


def test_missing_rootfs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=rf"^{tmp_path}/nothing: not a directory$"):
        read_inventory_from(make_source(SourceKind.ROOTFS, str(tmp_path / "nothing")))


def test_daemon_source_without_a_daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    with pytest.raises(
        InventoryError,
        match=rf"^inventory-test/none:1: no such file or directory, and no Docker daemon answers at unix://{tmp_path}/no.sock to look it up as an image",
    ):
        read_inventory_from(DaemonSource(name="inventory-test/none:1"))


def test_layer_streams_are_visited_once_each(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "image.tar", [BASE, TOP])
    seen: list[str] = []

    def visit(stream: LayerStream) -> None:
        seen.append(stream.name)

    config = DockerArchiveSource(path=archive).read(visit)
    assert len(seen) == 2 and config.diff_ids == (sha256(BASE), sha256(TOP))


def test_an_unsafe_member_names_the_image_the_layer_and_the_member(tmp_path: Path) -> None:
    evil = layer(file("../../etc/cron.d/evil", "* * * * * root sh"))
    oci_layout(tmp_path / "oci", [BASE, evil], compress=False)
    with pytest.raises(
        InventoryError,
        match=rf"^{tmp_path}/oci: layer blobs/sha256/{sha256(evil)[7:]}: member '\.\./\.\./etc/cron\.d/evil' climbs out of the image root with '\.\.': refused, nothing was extracted",
    ):
        read_inventory(str(tmp_path / "oci"))
    assert not (tmp_path / "etc").exists()
