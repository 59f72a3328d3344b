"""The OCI values: descriptors, config and manifest parse back to what they were."""

from __future__ import annotations

import pytest

from imagekit.image.config import History, ImageConfig, rfc3339
from imagekit.image.digest import Digest, digest_of, parse_digest
from imagekit.image.errors import OciError
from imagekit.image.model import Descriptor, Manifest, canonical_json

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
