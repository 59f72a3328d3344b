"""The one classifier of command arguments: each kind told by what it is on this machine."""

from __future__ import annotations

import gzip
import io
import os
import re
import tarfile
from pathlib import Path

import pytest

from imagekit.errors import InputError
from imagekit.image.ref import IMAGE_KINDS, ImageRef, RefKind, image_ref


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("manifest.json"), io.BytesIO(b""))
    return buffer.getvalue()


def test_folders_are_layouts_or_root_file_systems(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "oci-layout").write_text("{}")
    assert image_ref(str(layout)) == ImageRef(text=str(layout), kind=RefKind.OCI_LAYOUT)
    assert image_ref(str(tmp_path)).kind is RefKind.ROOTFS


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("image.tar", b"plain text", RefKind.DOCKER_ARCHIVE),  # the name says tarball
        ("image", _tar(), RefKind.DOCKER_ARCHIVE),  # ustar at 257
        ("image", gzip.compress(_tar()), RefKind.DOCKER_ARCHIVE),
        ("sbom.json", b"not json at all", RefKind.SBOM),  # the reader says it is not JSON
        ("sbom", b'\xef\xbb\xbf\n  {"bomFormat": "CycloneDX"}', RefKind.SBOM),
        ("bom", b"<?xml version='1.0'?><bom/>", RefKind.SBOM),
        ("requirements.lock", b"numpy==2.1.0\n", RefKind.LOCK),
        ("uv.lock", b"version = 1\n", RefKind.LOCK),
        ("blob", b"\x00\x01binary", RefKind.DOCKER_ARCHIVE),  # its reader says what is wrong
    ],
)
def test_files_by_name_then_first_bytes(
    tmp_path: Path, name: str, content: bytes, kind: RefKind
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert image_ref(str(path)).kind is kind


def test_text_cut_inside_a_character_at_the_head_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "requirements"
    path.write_bytes(b"a" * 511 + "é".encode())  # the 2-byte character spans byte 512
    assert image_ref(str(path)).kind is RefKind.LOCK


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("iris-classifier:1.0.0", RefKind.DAEMON),
        ("localhost:5000/ml/iris:1", RefKind.DAEMON),
        ("sha256:" + "a" * 64, RefKind.DAEMON),
        ("docker://localhost:5000/ml/iris:1", RefKind.REGISTRY),
    ],
)
def test_names_on_no_disk_are_images(text: str, kind: RefKind) -> None:
    ref = image_ref(text)
    assert (ref.kind, ref.is_image) == (kind, True)


@pytest.mark.parametrize("name", ["missing.json", "missing.tar", "requirements.lock", "./iris"])
def test_a_name_spelled_like_a_path_that_is_missing_is_not_asked_of_the_daemon(
    tmp_path: Path, name: str
) -> None:
    text = name if name.startswith("./") else str(tmp_path / name)
    message = f"{Path(text)}: file not found (correct the path)"
    with pytest.raises(InputError, match=re.escape(message)):
        image_ref(text)


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(
        InputError, match=re.escape(f"{fifo}: is a FIFO, not an image, an SBOM or a lockfile")
    ):
        image_ref(str(fifo))


def test_a_nul_in_the_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"cannot read"):
        image_ref("bad\0name.json")


def test_only_images_are_images_and_a_refusal_says_what_to_pass(tmp_path: Path) -> None:
    assert {k for k in RefKind if ImageRef(text="x", kind=k).is_image} == IMAGE_KINDS
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.1.0\n")
    error = image_ref(str(lock)).refused("an image or a CycloneDX JSON SBOM")
    assert str(error) == (
        f"{lock}: a text file (a lockfile) is not an image or a CycloneDX JSON SBOM "
        "(pass an image or a CycloneDX JSON SBOM)"
    )
