"""One identity per image, whatever form it is read from: the SBOM's metadata component has
the same name, version, digest and architecture from a docker-archive (Docker 25+ style, with
index.json) and from an OCI layout, both written by imagekit's own OCI writer; a root file
system folder is named by its own name and its shell's architecture, never by a host path."""

from __future__ import annotations

import json
import platform
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from imagekit.image.archive import write_archive
from imagekit.image.config import History, ImageConfig
from imagekit.image.layout import write_image, write_index
from imagekit.image.model import Compression, Image
from imagekit.image.tarlayer import Tree, bytes_entry, write_layer
from imagekit.inventory import read_inventory
from imagekit.sbom import SbomFormat, SpecVersion, render_sbom

EPOCH = 315532800
TAG = "imagekit-test/iris:1.0.0"
OS_RELEASE = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
# platform.machine() -> the OCI architecture (uname's spelling -> GOARCH's)
HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def image(layout: Path, annotations: dict[str, str], ref_name: str = TAG) -> Image:
    tree = Tree()
    tree.add(bytes_entry("etc/os-release", OS_RELEASE.encode(), mtime=EPOCH))
    layer = write_layer(
        tree, layout / "blobs" / "sha256", mtime=EPOCH, compression=Compression.GZIP
    )
    config = ImageConfig(
        architecture="arm64",
        os="linux",
        created="1980-01-01T00:00:00Z",
        diff_ids=(layer.diff_id,),
        history=(History(created="1980-01-01T00:00:00Z", created_by="t"),),
        env=("PATH=/usr/bin",),
    )
    written = write_image(layout, config, (layer,), annotations)
    write_index(layout, written, ref_name)
    return written


def subject(target: Path) -> dict[str, Any]:
    text = render_sbom(
        read_inventory(str(target)),
        fmt=SbomFormat.CYCLONEDX_JSON,
        spec=SpecVersion.V1_6,
        reproducible=True,
    )
    assert str(target.parent) not in text  # no host path anywhere in the SBOM
    component: dict[str, Any] = json.loads(text)["metadata"]["component"]
    return component


def identity(component: dict[str, Any]) -> tuple[Any, ...]:
    props = {p["name"]: p["value"] for p in component["properties"]}
    return (
        component["name"],
        component["version"],
        component["purl"],
        component["hashes"],
        props["imagekit:image:architecture"],
    )


def archive_and_layout(tmp_path: Path, annotations: dict[str, str]) -> tuple[Path, Path, Image]:
    layout = tmp_path / "some-folder"
    written = image(layout, annotations)
    archive = tmp_path / "export-2024.tar"
    write_archive(layout, written, TAG, archive, mtime=EPOCH)
    return archive, layout, written


def test_archive_and_layout_of_one_image_have_one_identity(tmp_path: Path) -> None:
    archive, layout, written = archive_and_layout(tmp_path, {})
    from_archive, from_layout = subject(archive), subject(layout)
    assert identity(from_archive) == identity(from_layout)
    digest = written.manifest_digest
    assert identity(from_layout) == (
        "imagekit-test/iris",
        "1.0.0",
        f"pkg:oci/iris@{digest}?arch=arm64&tag=1.0.0",
        [{"alg": "SHA-256", "content": digest.removeprefix("sha256:")}],
        "arm64",
    )


def test_the_images_own_title_names_it_in_either_form(tmp_path: Path) -> None:
    archive, layout, _ = archive_and_layout(
        tmp_path, {"org.opencontainers.image.title": "iris-classifier"}
    )
    from_archive, from_layout = subject(archive), subject(layout)
    assert identity(from_archive) == identity(from_layout)
    assert (from_layout["name"], from_layout["version"]) == ("iris-classifier", "1.0.0")


def test_a_ref_name_that_is_a_tag_alone_is_the_version(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    image(layout, {"org.opencontainers.image.title": "iris-classifier"}, ref_name="1.0.0")
    component = subject(layout)
    assert (component["name"], component["version"]) == ("iris-classifier", "1.0.0")


@pytest.mark.skipif(not Path("/usr/bin/dash").is_file(), reason="needs a real /usr/bin/dash")
def test_a_root_folder_is_named_by_its_own_name_and_its_shells_architecture(
    tmp_path: Path,
) -> None:
    root = tmp_path / "bookworm-root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "bin").symlink_to("usr/bin")
    shutil.copy(Path("/usr/bin/dash"), root / "usr/bin/dash")  # this machine's real binary
    (root / "usr/bin/sh").symlink_to("dash")
    found = read_inventory(str(root))
    assert (found.image.name, found.image.architecture, found.image.os) == (
        "bookworm-root",
        HOST_ARCH,
        "linux",
    )
    component = subject(root)
    assert component["name"] == "bookworm-root"
    assert component["bom-ref"] == "image:bookworm-root"
    props = {p["name"]: p["value"] for p in component["properties"]}
    assert props["imagekit:image:reference"] == "bookworm-root"
    assert props["imagekit:image:architecture"] == HOST_ARCH


def test_a_root_folder_without_a_shell_has_its_packages_architecture(tmp_path: Path) -> None:
    root = tmp_path / "distroless"
    (root / "var/lib/dpkg").mkdir(parents=True)
    paragraphs = [
        ("base-files", "12.4+deb12u5", "arm64"),
        ("libc6", "2.36-9+deb12u4", "arm64"),
        ("tzdata", "2024a-0+deb12u1", "all"),
        ("libc6", "2.36-9+deb12u4", "armhf"),  # a foreign architecture (multiarch)
    ]
    (root / "var/lib/dpkg/status").write_text(
        "\n".join(
            f"Package: {name}\nStatus: install ok installed\nVersion: {version}\n"
            f"Architecture: {arch}\n"
            for name, version, arch in paragraphs
        )
    )
    found = read_inventory(str(root))
    assert (found.image.name, found.image.architecture) == ("distroless", "arm64")


def test_the_sbom_says_which_digest_identifies_the_image(tmp_path: Path) -> None:
    archive, layout, written = archive_and_layout(tmp_path, {})
    for target in (archive, layout):
        props = {p["name"]: p["value"] for p in subject(target)["properties"]}
        assert props["imagekit:image:digest-kind"] == "manifest"
    # The same archive as Docker before 25 wrote it: manifest.json only, no index.json, so
    # no manifest digest; its image id is said to be one, never put in a pkg:oci purl.
    older = tmp_path / "docker-24.tar"
    with tarfile.open(archive) as src, tarfile.open(older, "w") as dst:
        for member in src.getmembers():
            if member.name not in ("index.json", "oci-layout"):
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    component = subject(older)
    props = {p["name"]: p["value"] for p in component["properties"]}
    assert props["imagekit:image:digest-kind"] == "image-id"
    assert props["imagekit:image:config-digest"] == written.manifest.config.digest
    assert "purl" not in component and "hashes" not in component
    assert (component["name"], component["version"]) == ("imagekit-test/iris", "1.0.0")


def spdx_subject(target: Path) -> dict[str, Any]:
    text = render_sbom(read_inventory(str(target)), fmt=SbomFormat.SPDX_JSON, reproducible=True)
    assert str(target.parent) not in text
    data = json.loads(text)
    (described,) = (
        r["relatedSpdxElement"]
        for r in data["relationships"]
        if r["relationshipType"] == "DESCRIBES"
    )
    found: dict[str, Any] = next(p for p in data["packages"] if p["SPDXID"] == described)
    return found


def test_the_spdx_sbom_has_the_same_identity_in_either_form(tmp_path: Path) -> None:
    archive, layout, written = archive_and_layout(
        tmp_path, {"org.opencontainers.image.title": "iris-classifier"}
    )
    from_archive, from_layout = spdx_subject(archive), spdx_subject(layout)
    keys = ("SPDXID", "name", "versionInfo", "checksums", "externalRefs", "primaryPackagePurpose")
    assert [from_archive[k] for k in keys] == [from_layout[k] for k in keys]
    assert from_layout["externalRefs"][0]["referenceLocator"] == (
        f"pkg:oci/iris-classifier@{written.manifest_digest}?arch=arm64&tag=1.0.0"
    )
