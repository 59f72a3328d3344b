"""OCI layouts and docker-archives: written atomically, read back, corrupt blobs refused."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from imagekit.build.oci.base import _verify_layers
from imagekit.build.oci.rootfs import base_facts, read_facts
from imagekit.image.archive import read_archive, write_archive
from imagekit.image.config import History, ImageConfig
from imagekit.image.digest import Digest, digest_of
from imagekit.image.errors import ContentMismatchError, OciError
from imagekit.image.layout import (
    blob_path,
    read_layout,
    staged_dir,
    verify_blob,
    write_blob,
    write_image,
    write_index,
)
from imagekit.image.model import Compression, Descriptor, Image, LayerBlob
from imagekit.image.tarlayer import Entry, EntryKind, Tree, bytes_entry, write_layer

EPOCH = 315532800
TAG = "imagekit-test/tiny:1"


def _base_tree() -> Tree:
    tree = Tree()
    tree.add(bytes_entry("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", mtime=EPOCH))
    tree.add(bytes_entry("etc/group", b"root:x:0:\n", mtime=EPOCH))
    tree.add(Entry(path="lib", kind=EntryKind.SYMLINK, mode=0o777, mtime=EPOCH, linkname="usr/lib"))
    return tree


def _image(layout: Path, *layers: LayerBlob) -> Image:
    config = ImageConfig(
        architecture="amd64",
        os="linux",
        created="1980-01-01T00:00:00Z",
        diff_ids=tuple(x.diff_id for x in layers),
        history=tuple(History(created="1980-01-01T00:00:00Z", created_by="t") for _ in layers),
        env=("PATH=/usr/bin",),
    )
    image = write_image(layout, config, layers, {"org.opencontainers.image.title": "tiny"})
    write_index(layout, image, TAG)
    return image


def _tiny(layout: Path) -> Image:
    blobs = layout / "blobs" / "sha256"
    layer = write_layer(_base_tree(), blobs, mtime=EPOCH, compression=Compression.GZIP)
    return _image(layout, layer)


def test_layout_round_trip(tmp_path: Path) -> None:
    image = _tiny(tmp_path)
    assert json.loads((tmp_path / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert read_layout(tmp_path, TAG) == image
    assert read_layout(tmp_path) == image
    with pytest.raises(OciError, match=r"holds 0 manifests, not an image named 'other:1'"):
        read_layout(tmp_path, "other:1")


def test_facts_follow_the_layers(tmp_path: Path) -> None:
    facts = read_facts(tmp_path, _tiny(tmp_path))
    assert facts.file("etc/group") == "root:x:0:\n"
    assert facts.resolve("lib/x86_64-linux-gnu/libz.so.1") == "usr/lib/x86_64-linux-gnu/libz.so.1"
    assert facts.resolve("lib", follow_last=True) == "usr/lib"
    assert facts.resolve("lib") == "lib"


def test_a_corrupt_gzip_base_layer_is_an_error(tmp_path: Path) -> None:
    # a blob whose digest matches its bytes, which are not gzip: a broken archive or cache
    data = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"this is not a deflate stream" * 4
    digest = write_blob(tmp_path, data)
    layer = LayerBlob(
        descriptor=Descriptor(
            media_type=Compression.GZIP.media_type, digest=digest, size=len(data)
        ),
        diff_id=Digest("sha256:" + "0" * 64),
    )
    image = _image(tmp_path, layer)
    verify_blob(tmp_path, layer.descriptor)  # the digest is right
    with pytest.raises(OciError, match=rf"{digest.removeprefix('sha256:')}: the layer is corrupt"):
        base_facts(tmp_path, image, tmp_path / "facts")
    assert not (tmp_path / "facts").exists()  # nothing cached from a corrupt base


def test_a_tampered_blob_fails_its_digest(tmp_path: Path) -> None:
    image = _tiny(tmp_path)
    descriptor = image.layers[0].descriptor
    blob_path(tmp_path, descriptor.digest).write_bytes(b"tampered")
    with pytest.raises(OciError, match=r"layer does not match its digest sha256:"):
        verify_blob(tmp_path, descriptor)


def test_a_cached_base_is_hashed_again_only_when_a_blob_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _tiny(tmp_path)
    checked: list[str] = []

    def counting(layout: Path, descriptor: Descriptor) -> None:
        checked.append(descriptor.digest)
        verify_blob(layout, descriptor)

    monkeypatch.setattr("imagekit.build.oci.base.verify_blob", counting)
    for _ in range(3):
        _verify_layers(tmp_path, image)
    digest = image.layers[0].descriptor.digest
    assert checked == [digest]  # once: the stamp says the blob is as it was
    blob = blob_path(tmp_path, digest)
    size = blob.stat().st_size
    blob.unlink()
    blob.write_bytes(b"\0" * size)  # replaced: another inode and mtime
    with pytest.raises(OciError, match=r"layer does not match its digest sha256:"):
        _verify_layers(tmp_path, image)
    assert checked == [digest, digest]


def test_an_interrupted_write_leaves_no_layout(tmp_path: Path) -> None:
    dest = tmp_path / "oci"
    with pytest.raises(KeyboardInterrupt), staged_dir(dest) as layout:
        _tiny(layout)
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rewrite_keeps_the_previous_layout(tmp_path: Path) -> None:
    dest = tmp_path / "oci"
    with staged_dir(dest) as layout:
        image = _tiny(layout)
    with pytest.raises(OciError), staged_dir(dest) as layout:
        raise OciError("the next build failed")
    assert read_layout(dest) == image
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oci"]


def test_docker_archive_round_trip(tmp_path: Path) -> None:
    image = _tiny(tmp_path / "layout")
    archive = tmp_path / "tiny.tar"
    write_archive(tmp_path / "layout", image, TAG, archive, mtime=EPOCH)
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        names = tar.getnames()
    assert manifest[0]["RepoTags"] == [TAG]
    assert manifest[0]["Config"] == f"blobs/sha256/{image.manifest.config.digest[7:]}"
    assert "index.json" in names and "repositories" in names
    back = read_archive(archive, tmp_path / "back", TAG)
    # the config's own bytes are kept, so the image id (config digest) stays the same
    assert back.manifest.config.digest == image.manifest.config.digest
    assert back.layers == image.layers
    # gzip layers are kept as they are, published 0644 as every blob, and nothing staged is left
    blobs = sorted((tmp_path / "back" / "blobs" / "sha256").iterdir())
    assert blobs and all(b.stat().st_mode & 0o777 == 0o644 for b in blobs)
    assert not list((tmp_path / "back").glob(".layer-*"))


def test_a_corrupt_gzip_layer_of_an_archive_leaves_nothing(tmp_path: Path) -> None:
    image = _tiny(tmp_path / "layout")
    archive = tmp_path / "tiny.tar"
    write_archive(tmp_path / "layout", image, TAG, archive, mtime=EPOCH)
    bad = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"not a deflate stream" * 4
    layer = f"blobs/sha256/{image.layers[0].descriptor.digest[7:]}"

    def corrupt(contents: dict[str, bytes]) -> None:
        # named by its own digest, so only unpacking it finds the fault
        del contents[layer]
        contents[f"blobs/sha256/{digest_of(bad)[7:]}"] = bad
        entries = json.loads(contents["manifest.json"])
        entries[0]["Layers"] = [f"blobs/sha256/{digest_of(bad)[7:]}"]
        contents["manifest.json"] = json.dumps(entries).encode()

    _rewrite(archive, corrupt)
    with pytest.raises(OciError, match=r"is not a valid gzip stream") as raised:
        read_archive(archive, tmp_path / "out", TAG)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.rglob(".layer-*"))


def test_an_archive_is_written_the_same_twice(tmp_path: Path) -> None:
    image = _tiny(tmp_path / "layout")
    for name in ("a.tar", "b.tar"):
        write_archive(tmp_path / "layout", image, TAG, tmp_path / name, mtime=EPOCH)
    a, b = (tmp_path / "a.tar").read_bytes(), (tmp_path / "b.tar").read_bytes()
    assert digest_of(a) == digest_of(b)


def test_not_an_archive(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"no tar here")
    with pytest.raises(OciError, match=r"bogus.tar: not a readable tar archive"):
        read_archive(bogus, tmp_path / "out", TAG)
    assert not (tmp_path / "out").exists()


def _rewrite(archive: Path, edit: Callable[[dict[str, bytes]], None]) -> None:
    """The archive with its members' bytes changed by `edit` (members are files here)."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m) for m in tar.getmembers()}
        contents = {name: f.read() for name, f in members.items() if f is not None}
    edit(contents)
    with tarfile.open(archive, "w") as tar:
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_an_archive_of_two_images_is_read_by_its_repo_tag(tmp_path: Path) -> None:
    image = _tiny(tmp_path / "layout")
    archive = tmp_path / "two.tar"
    write_archive(tmp_path / "layout", image, TAG, archive, mtime=EPOCH)

    def second_entry(contents: dict[str, bytes]) -> None:
        entries = json.loads(contents["manifest.json"])
        entries.append({**entries[0], "RepoTags": ["other:2"]})
        contents["manifest.json"] = json.dumps(entries).encode()

    _rewrite(archive, second_entry)
    with pytest.raises(OciError, match=rf"lists 2 images \({TAG}, other:2\): name one$"):
        read_archive(archive, tmp_path / "any", TAG)
    assert not (tmp_path / "any").exists()
    back = read_archive(archive, tmp_path / "back", "other:2", image="other:2")
    assert back.manifest.config.digest == image.manifest.config.digest


def test_a_config_that_does_not_match_its_name_is_refused(tmp_path: Path) -> None:
    image = _tiny(tmp_path / "layout")
    archive = tmp_path / "tiny.tar"
    write_archive(tmp_path / "layout", image, TAG, archive, mtime=EPOCH)
    name = f"{image.manifest.config.digest[7:]}.json"  # the classic `docker save` layout

    def tamper(contents: dict[str, bytes]) -> None:
        config = contents.pop(f"blobs/sha256/{image.manifest.config.digest[7:]}")
        contents[name] = config.replace(b'"amd64"', b'"arm64"')
        entries = json.loads(contents["manifest.json"])
        entries[0]["Config"] = name
        contents["manifest.json"] = json.dumps(entries).encode()

    _rewrite(archive, tamper)
    with pytest.raises(
        ContentMismatchError, match=rf"{name} has digest sha256:\w+: the archive is corrupt$"
    ):
        read_archive(archive, tmp_path / "back", TAG)
    assert not (tmp_path / "back").exists()
