"""Push and pull against a real registry (CI's, or Debian's docker-registry started here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _registry_support import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    LocalRegistry,
    RequestLog,
    anonymous_registry,
    build_layout,
    digest,
    free_port,
    layout_blobs,
    local_registry,
)

from imagekit.image.layout import blob_path
from imagekit.image.model import Descriptor
from imagekit.registry import (
    ClientOptions,
    DigestMismatchError,
    LayoutError,
    ManifestError,
    RegistryClient,
    RegistryResponseError,
    RegistryUnreachableError,
    Transfer,
    parse_reference,
    pull_to_layout,
    push_layout,
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="module")
def own_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A registry started here, whose storage the test may damage."""
    with local_registry(tmp_path_factory.mktemp("own-registry")) as started:
        yield started


def test_round_trip_then_second_push_uploads_nothing(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="round-trip")
    ref = f"{registry}/imagekit-test/round-trip:1.0"
    first = push_layout(built.root, ref)
    assert first.digest == built.manifest_digest
    assert str(first.reference) == f"{ref}@{built.manifest_digest}"
    assert sorted(first.uploaded + first.existing) == sorted(built.blobs)

    log = RequestLog()
    second = push_layout(built.root, ref, options=ClientOptions(observer=log))
    assert second.digest == built.manifest_digest
    assert (second.uploaded, second.mounted) == ((), ())
    assert sorted(second.existing) == sorted(built.blobs)
    assert log.uploads() == 0
    assert [e.method for e in log.exchanges] == ["HEAD"] * 3 + ["PUT"]

    pulled = tmp_path / "pulled"
    assert pull_to_layout(ref, pulled) == built.manifest_digest
    assert layout_blobs(pulled) == layout_blobs(built.root)
    index = json.loads((pulled / "index.json").read_text())
    assert index["manifests"][0]["annotations"] == {
        "dev.imagekit.registry.source": f"{registry}/imagekit-test/round-trip",
        "org.opencontainers.image.ref.name": "1.0",
    }
    assert json.loads((pulled / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_docker_schema2_round_trip(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="schema2", docker=True)
    ref = f"{registry}/imagekit-test/schema2:1"
    assert push_layout(built.root, ref).digest == built.manifest_digest
    assert pull_to_layout(ref, tmp_path / "pulled") == built.manifest_digest
    assert layout_blobs(tmp_path / "pulled") == layout_blobs(built.root)
    entry = json.loads((tmp_path / "pulled" / "index.json").read_text())["manifests"][0]
    assert entry["mediaType"] == DOCKER_MANIFEST


def test_chunked_upload_with_a_small_chunk_size(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="chunked", size=70_000)
    ref = parse_reference(f"{registry}/imagekit-test/chunked:1.0")
    log = RequestLog()
    client = RegistryClient(ref, push=True, options=ClientOptions(chunk_size=16_384, observer=log))
    big = blob_path(built.root, built.blobs[1])
    blob = Descriptor(
        media_type="application/vnd.oci.image.layer.v1.tar",
        digest=built.blobs[1],
        size=big.stat().st_size,
    )
    assert client.upload_blob(big, blob) is Transfer.UPLOADED
    chunks = -(-blob.size // 16_384)
    assert log.count("PATCH", "/blobs/uploads/") == chunks
    assert log.count("PUT", "/blobs/uploads/") == 1
    assert client.blob_exists(blob.digest)
    fetched = tmp_path / "fetched"
    client.get_blob(blob, fetched)
    assert fetched.read_bytes() == big.read_bytes()


def test_push_mounts_from_the_repository_it_was_pulled_from(
    own_registry: LocalRegistry, tmp_path: Path
) -> None:
    # A registry started for this run: the target repository must not have the blobs yet.
    registry = own_registry.address
    built = build_layout(tmp_path / "layout", seed="mount")
    source = f"{registry}/imagekit-test/mount-source:1.0"
    push_layout(built.root, source)
    pull_to_layout(source, tmp_path / "pulled")
    log = RequestLog()
    result = push_layout(
        tmp_path / "pulled",
        f"{registry}/imagekit-test/mount-target:1.0",
        options=ClientOptions(observer=log),
    )
    assert result.digest == built.manifest_digest
    assert sorted(result.mounted) == sorted(built.blobs)
    assert log.count("POST", "from=imagekit-test%2Fmount-source") == 3
    assert log.count("PATCH", "/blobs/") == log.count("PUT", "/blobs/") == 0


def test_mount_from_an_unknown_repository_falls_back_to_upload(
    registry: str, tmp_path: Path
) -> None:
    built = build_layout(tmp_path / "layout", seed="mount-fallback")
    result = push_layout(
        built.root, f"{registry}/imagekit-test/fallback:1", mount_from="imagekit-test/nowhere"
    )
    assert sorted(result.uploaded + result.existing) == sorted(built.blobs)
    assert result.mounted == ()


def test_push_by_digest_and_pull_by_digest(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="by-digest")
    result = push_layout(built.root, f"{registry}/imagekit-test/by-digest")
    # "by-digest" without a tag is ":latest" (Docker's rule); push by digest explicitly:
    pinned = f"{registry}/imagekit-test/pinned@{built.manifest_digest}"
    by_digest = push_layout(built.root, pinned)
    assert result.digest == by_digest.digest == built.manifest_digest
    assert by_digest.reference.tag is None
    assert pull_to_layout(pinned, tmp_path / "pulled") == built.manifest_digest
    index = json.loads((tmp_path / "pulled" / "index.json").read_text())
    assert "org.opencontainers.image.ref.name" not in index["manifests"][0]["annotations"]


def test_push_refuses_a_digest_the_layout_does_not_hold(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="wrong-digest")
    wrong = "sha256:" + "0" * 64
    with pytest.raises(DigestMismatchError, match=rf"holds manifest {built.manifest_digest}"):
        push_layout(built.root, f"{registry}/imagekit-test/x@{wrong}")


@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_LIST])
def test_multi_platform_index_push_and_platform_pull(
    registry: str, tmp_path: Path, index_type: str
) -> None:
    docker = index_type == DOCKER_LIST
    amd64 = build_layout(tmp_path / "amd64", seed="amd64", docker=docker)
    arm64 = build_layout(tmp_path / "arm64", seed="arm64", docker=docker)
    images = {"amd64": amd64.root, "arm64": arm64.root}
    root = _index_layout(tmp_path / "multi", images, index_type)
    ref = f"{registry}/imagekit-test/multi:{'docker' if docker else 'oci'}"
    push_layout(root, ref)
    assert pull_to_layout(ref, tmp_path / "a") == amd64.manifest_digest
    assert pull_to_layout(ref, tmp_path / "b", "linux/arm64") == arm64.manifest_digest
    assert layout_blobs(tmp_path / "b") == layout_blobs(arm64.root)
    entry = json.loads((tmp_path / "b" / "index.json").read_text())["manifests"][0]
    assert entry["platform"] == {"os": "linux", "architecture": "arm64"}
    with pytest.raises(
        ManifestError,
        match=r"no image for platform linux/s390x; the index offers linux/amd64, linux/arm64",
    ):
        pull_to_layout(ref, tmp_path / "c", "linux/s390x")
    assert not (tmp_path / "c").exists()


def _index_layout(root: Path, images: dict[str, Path], index_type: str) -> Path:
    """A layout whose index.json points at an image index of `images` (arch -> layout)."""
    entries = []
    for arch, layout in sorted(images.items()):
        entry = json.loads((layout / "index.json").read_text())["manifests"][0]
        entry.pop("annotations")
        entries.append({**entry, "platform": {"os": "linux", "architecture": arch}})
        for blob in (layout / "blobs" / "sha256").iterdir():
            (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
            (root / "blobs" / "sha256" / blob.name).write_bytes(blob.read_bytes())
    index = json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": entries}).encode()
    (root / "blobs" / "sha256" / digest(index).removeprefix("sha256:")).write_bytes(index)
    top = {"mediaType": index_type, "digest": digest(index), "size": len(index)}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return root


def test_pull_refuses_a_folder_in_the_way(registry: str, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(LayoutError, match=r"out: already exists and is not an empty folder"):
        pull_to_layout(f"{registry}/imagekit-test/any:1", tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_pull_of_a_missing_image(registry: str, tmp_path: Path) -> None:
    ref = f"{registry}/imagekit-test/missing:1"
    with pytest.raises(
        RegistryResponseError,
        match=rf"^{ref}: no such image in {registry}: HTTP 404 \(MANIFEST_UNKNOWN: manifest unknown\); check the repository and the tag$",
    ):
        pull_to_layout(ref, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_push_of_a_damaged_layout(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="damaged")
    path = blob_path(built.root, built.blobs[2])
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    with pytest.raises(
        DigestMismatchError,
        match=rf"the registry refused blob {built.blobs[2]}: the uploaded content does not hash to it",
    ):
        push_layout(built.root, f"{registry}/imagekit-test/damaged:1")
    path.unlink()
    with pytest.raises(
        LayoutError, match=rf"blob {built.blobs[2]} is missing; the layout is partial$"
    ):
        push_layout(built.root, f"{registry}/imagekit-test/damaged:1")


def test_a_blob_whose_content_does_not_match_is_refused(
    own_registry: LocalRegistry, tmp_path: Path
) -> None:
    built = build_layout(tmp_path / "layout", seed="corrupt")
    ref = f"{own_registry.address}/imagekit-test/corrupt:1"
    push_layout(built.root, ref)
    layer = built.blobs[1]
    stored = own_registry.blob_data("imagekit-test/corrupt", layer)
    data = bytearray(stored.read_bytes())
    data[100] ^= 0xFF  # same size, different content
    stored.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(
        DigestMismatchError,
        match=rf"^{ref}: refused blob {layer}: got {len(data)} bytes \({len(data)} expected\) hashing to sha256:",
    ):
        pull_to_layout(ref, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "layout"]


def test_unreachable_registry_is_one_line_naming_the_reference(tmp_path: Path) -> None:
    ref = f"127.0.0.1:{free_port()}/imagekit-test/nowhere:1"
    with pytest.raises(RegistryUnreachableError) as info:
        pull_to_layout(ref, tmp_path / "out")
    message = str(info.value)
    assert message.startswith(f"{ref}: cannot reach registry 127.0.0.1:")
    assert "Connection refused" in message
    assert "\n" not in message
    assert not (tmp_path / "out").exists()


def test_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"not an OCI image layout \(no oci-layout file\)"):
        push_layout(tmp_path, "localhost:1/x:1")
    built = build_layout(tmp_path / "two", seed="two")
    index = json.loads((built.root / "index.json").read_text())
    second = {**index["manifests"][0], "annotations": {"org.opencontainers.image.ref.name": "2.0"}}
    index["manifests"].append(second)
    (built.root / "index.json").write_text(json.dumps(index))
    with pytest.raises(
        LayoutError,
        match=r"index.json: 2 manifests and none is tagged '3': push by one of these tags: 1.0, 2.0$",
    ):
        push_layout(built.root, "localhost:1/x:3")
    manifest = blob_path(built.root, built.manifest_digest)
    manifest.write_bytes(b"{}")
    with pytest.raises(
        DigestMismatchError, match=rf"does not hold {built.manifest_digest} \(2 bytes"
    ):
        push_layout(built.root, "localhost:1/x:2.0")
