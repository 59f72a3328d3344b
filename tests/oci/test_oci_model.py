"""The OCI values: digests, platforms, descriptors, config, manifests and indexes parse back
to what they were, and malformed ones are refused naming the field."""

from __future__ import annotations

import json

import pytest

from imagekit.image.config import History, ImageConfig, rfc3339
from imagekit.image.digest import READ_ALGORITHMS, Digest, digest_of, parse_digest
from imagekit.image.errors import ContentMismatchError, OciError
from imagekit.image.model import (
    Descriptor,
    Index,
    Manifest,
    Platform,
    canonical_json,
    parse_manifest,
)
from imagekit.inventory.errors import InventoryError
from imagekit.registry.errors import (
    DigestMismatchError,
    LayoutError,
    LayoutWriteError,
    ManifestError,
)

D1 = Digest("sha256:" + "1" * 64)
D2 = Digest("sha256:" + "2" * 64)


def _config() -> ImageConfig:
    return ImageConfig(
        architecture="amd64",
        os="linux",
        created=rfc3339(315532800),
        diff_ids=(D1, D2),
        history=(History(created="1980-01-01T00:00:00Z", created_by="imagekit: app"),),
        env=("PATH=/opt/venv/bin:/usr/bin", "A=b=c"),
        labels=(("org.opencontainers.image.title", "iris"),),
        user="10001:10001",
        workdir="/app",
        entrypoint=("python", "-m", "iris_model.predict"),
        cmd=(),
        exposed_ports=("8080/tcp",),
    )


def test_config_round_trip() -> None:
    config = _config()
    assert ImageConfig.from_dict(config.to_dict(), "config") == config
    assert config.env_map == {"PATH": "/opt/venv/bin:/usr/bin", "A": "b=c"}
    assert config.to_dict()["config"]["Cmd"] == []
    assert config.created == "1980-01-01T00:00:00Z"


def test_manifest_round_trip() -> None:
    layer = Descriptor(media_type="application/vnd.oci.image.layer.v1.tar+gzip", digest=D1, size=3)
    manifest = Manifest(
        config=Descriptor(media_type="application/vnd.oci.image.config.v1+json", digest=D2, size=9),
        layers=(layer,),
        annotations=(("org.opencontainers.image.created", "1980-01-01T00:00:00Z"),),
    )
    assert Manifest.from_dict(manifest.to_dict(), "m") == manifest


def test_canonical_json_is_stable() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'
    assert digest_of(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("value", ["sha256:abc", "md5:" + "0" * 64, None, 3])
def test_bad_digests_are_refused(value: object) -> None:
    with pytest.raises(OciError, match=r"index.json: .* is not a sha256 digest"):
        parse_digest(value, "index.json")


def test_a_size_that_is_not_a_count_is_refused() -> None:
    with pytest.raises(OciError, match=r"^m: 'size' must be a non-negative integer$"):
        Descriptor.from_dict({"mediaType": "x", "digest": D1, "size": True}, "m")


def test_parse_digest() -> None:
    assert parse_digest("sha256:" + "a" * 64, "x") == "sha256:" + "a" * 64
    with pytest.raises(OciError, match=r"^layer: 'sha256:AB' is not a sha256 digest"):
        parse_digest("sha256:AB", "layer")


def _descriptor(media_type: str, char: str = "b", **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": f"sha256:{char * 64}", "size": 7, **extra}


def test_parse_docker_manifest_and_list() -> None:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": _descriptor("application/vnd.docker.container.image.v1+json"),
        "layers": [_descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", "c")],
    }
    parsed = parse_manifest(json.dumps(manifest).encode(), None, "m")
    assert isinstance(parsed, Manifest)
    assert [b.digest[-1] for b in parsed.blobs] == ["b", "c"]
    listing = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            _descriptor("m", "1", platform={"os": "linux", "architecture": "arm", "variant": "v7"}),
            _descriptor(
                "m", "2", platform={"os": "linux", "architecture": "arm64", "variant": "v8"}
            ),
            _descriptor("m", "3", platform={"os": "linux", "architecture": "amd64"}),
        ],
    }
    index = parse_manifest(json.dumps(listing).encode(), None, "l")
    assert isinstance(index, Index)
    assert index.select(Platform.parse("linux/amd64"), "l").digest == "sha256:" + "3" * 64
    assert index.select(Platform.parse("linux/arm64"), "l").digest == "sha256:" + "2" * 64
    assert index.select(Platform.parse("linux/arm/v7"), "l").digest == "sha256:" + "1" * 64
    with pytest.raises(
        OciError,
        match=r"^l: no image for platform linux/s390x; the index offers linux/amd64, linux/arm/v7, linux/arm64/v8 \(choose one with --platform\)$",
    ):
        index.select(Platform.parse("linux/s390x"), "l")


def test_oci_manifest_without_media_type_takes_the_header_or_its_shape() -> None:
    bare = {"schemaVersion": 2, "config": _descriptor("c"), "layers": []}
    data = json.dumps(bare).encode()
    parsed = parse_manifest(data, "application/vnd.oci.image.manifest.v1+json", "m")
    assert parsed.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert isinstance(parse_manifest(json.dumps({"manifests": []}).encode(), None, "i"), Index)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{", r"^m: not a JSON manifest"),
        (b"[]", r"^m: a manifest must be a JSON object$"),
        (b'{"mediaType": "application/x"}', r"^m: unsupported manifest type 'application/x'"),
        (json.dumps({"mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {}}).encode(),
         r"^m: config: 'digest' must be a non-empty string$"),
        (json.dumps({"config": {**_descriptor("c"), "size": True}, "layers": []}).encode(),
         r"^m: config: 'size' must be a non-negative integer$"),
        (json.dumps({"config": _descriptor("c"), "layers": {}}).encode(),
         r"^m: 'layers' must be an array$"),
        (json.dumps({"config": {**_descriptor("c"), "digest": "sha256:x"}, "layers": []}).encode(),
         r"^m: config.digest: 'sha256:x' is not a sha256 digest"),
        (json.dumps({"manifests": [{**_descriptor("c"), "platform": {"os": "linux"}}]}).encode(),
         r"^m: manifests\[0\].platform: 'architecture' must be a non-empty string$"),
    ],
)  # fmt: skip
def test_malformed_manifests_name_the_field(document: bytes, message: str) -> None:
    with pytest.raises(OciError, match=message):
        parse_manifest(document, None, "m")


def test_descriptor_round_trip() -> None:
    data = _descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        platform={"os": "linux", "architecture": "arm64", "variant": "v8"},
        annotations={"b": "2", "a": "1"},
    )
    descriptor = Descriptor.from_dict(data, "d")
    assert descriptor.platform == Platform(os="linux", architecture="arm64", variant="v8")
    assert descriptor.annotation("a") == "1"
    assert descriptor.to_dict() == data
    assert Descriptor.from_dict(descriptor.to_dict(), "d") == descriptor


@pytest.mark.parametrize("text", ["linux", "linux/", "a/b/c/d", "/amd64"])
def test_bad_platform(text: str) -> None:
    with pytest.raises(OciError, match=rf"^platform '{text}' is not os/architecture\[/variant\]$"):
        Platform.parse(text)


def test_sha512_is_read_only_where_allowed() -> None:
    sha512 = "sha512:" + "a" * 128
    assert parse_digest(sha512, "x", algorithms=READ_ALGORITHMS) == sha512
    with pytest.raises(OciError, match=r"^x: 'sha512:a+' is not a sha256 digest"):
        parse_digest(sha512, "x")
    descriptor = Descriptor.from_dict({"mediaType": "m", "digest": sha512, "size": 1}, "d")
    assert descriptor.digest == sha512


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (OciError, 3),
        (ContentMismatchError, 3),
        (ManifestError, 2),
        (LayoutError, 2),
        (DigestMismatchError, 2),
        (LayoutWriteError, 3),
        (InventoryError, 2),
    ],
)
def test_image_format_errors_share_one_base_and_keep_their_exit_codes(
    error: type[OciError], exit_code: int
) -> None:
    assert issubclass(error, OciError)
    assert error.exit_code == exit_code
