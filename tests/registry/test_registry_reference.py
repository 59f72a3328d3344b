"""References, digests, credentials, challenges, manifests: the parts with no network."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from imagekit.image.digest import Digest
from imagekit.registry import (
    InvalidReferenceError,
    Reference,
    find_credentials,
    parse_reference,
)
from imagekit.registry.auth import parse_challenge
from imagekit.registry.errors import RegistryAuthError
from imagekit.registry.session import base_url, is_loopback, merge_scopes

HEX = "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("debian", "docker.io", "library/debian", "latest", None),
        ("debian:bookworm", "docker.io", "library/debian", "bookworm", None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("docker.io/debian", "docker.io", "library/debian", "latest", None),
        ("index.docker.io/library/debian:12", "docker.io", "library/debian", "12", None),
        ("localhost/models/iris", "localhost", "models/iris", "latest", None),
        ("localhost:5000/iris:1.0", "localhost:5000", "iris", "1.0", None),
        ("127.0.0.1:5000/a/b/c:v1.2-rc_3", "127.0.0.1:5000", "a/b/c", "v1.2-rc_3", None),
        ("ghcr.io/org/model@sha256:" + HEX, "ghcr.io", "org/model", None, "sha256:" + HEX),
        ("Registry/repo:1", "Registry", "repo", "1", None),
        ("[::1]:5000/x:y", "[::1]:5000", "x", "y", None),
        ("reg.example/my_repo/a-b.c:t@sha256:" + HEX, "reg.example", "my_repo/a-b.c", "t",
         "sha256:" + HEX),
    ],
)  # fmt: skip
def test_parse_reference(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    pinned = Digest(digest) if digest else None
    assert ref == Reference(registry=registry, repository=repository, tag=tag, digest=pinned)
    assert parse_reference(str(ref)) == ref


def test_reference_text_and_target() -> None:
    ref = parse_reference("localhost:5000/iris@sha256:" + HEX)
    assert str(ref) == f"localhost:5000/iris@sha256:{HEX}"
    assert ref.target == f"sha256:{HEX}"
    assert str(parse_reference("iris")) == "docker.io/library/iris:latest"
    assert parse_reference("iris:2").target == "2"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "it is empty or holds white space"),
        ("iris 1", "it is empty or holds white space"),
        ("https://localhost:5000/iris", "drop the scheme"),
        ("Iris", "repository 'library/Iris' must be lower-case"),
        ("localhost:5000/iris:bad/tag", "repository 'iris:bad/tag' must be lower-case"),
        ("iris:-x", "tag '-x' must be 1-128"),
        ("iris@sha256:abc", "'sha256:abc' is not a sha256 digest"),
        ("iris@md5:" + HEX, f"'md5:{HEX}' is not a sha256 digest"),
        ("bad_host.example/iris", "'bad_host.example' is not a registry host"),
        ("localhost:5000/a//b", "repository 'a//b' must be lower-case"),
        ("docker.io/" + "a" * 250, "the name is longer than 255 characters"),
    ],
)
def test_invalid_references_name_the_reference(text: str, why: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_reference(text)
    message = str(info.value)
    assert message.startswith(f"invalid image reference {text!r}: ")
    assert why in message
    assert message.endswith("e.g. localhost:5000/models/iris:1.0")


def test_credentials_from_the_environment_come_first(tmp_path: Path) -> None:
    env = {"IMAGEKIT_REGISTRY_USER": "ci", "IMAGEKIT_REGISTRY_PASSWORD": "s3cret:x"}
    env["DOCKER_CONFIG"] = str(_docker_config(tmp_path, {"localhost:5000": _auth("u", "p")}))
    creds = find_credentials("localhost:5000", environ=env)
    assert creds is not None
    assert (creds.username, creds.password, creds.source) == (
        "ci",
        "s3cret:x",
        "IMAGEKIT_REGISTRY_USER",
    )
    assert "s3cret" not in repr(creds)
    assert creds.basic_header() == "Basic " + base64.b64encode(b"ci:s3cret:x").decode()


def test_half_set_environment_is_an_error() -> None:
    with pytest.raises(
        RegistryAuthError, match=r"^IMAGEKIT_REGISTRY_PASSWORD is not set: set both"
    ):
        find_credentials("r.example", environ={"IMAGEKIT_REGISTRY_USER": "u"})


def test_credentials_from_docker_config(tmp_path: Path) -> None:
    config = _docker_config(
        tmp_path,
        {
            "https://index.docker.io/v1/": _auth("hub", "pw1"),
            "http://localhost:5000": _auth("local", "pw:2"),
            "ghcr.io": {},  # kept by a credential helper: not read
        },
    )
    env = {"DOCKER_CONFIG": str(config)}
    hub = find_credentials("docker.io", environ=env)
    local = find_credentials("localhost:5000", environ=env)
    assert hub is not None and (hub.username, hub.password) == ("hub", "pw1")
    assert local is not None and (local.username, local.password) == ("local", "pw:2")
    assert local.source == f"{config / 'config.json'}: auths.http://localhost:5000"
    assert find_credentials("ghcr.io", environ=env) is None
    assert find_credentials("quay.io", environ=env) is None
    assert find_credentials("quay.io", environ={"DOCKER_CONFIG": str(tmp_path / "none")}) is None


def test_broken_docker_config_names_the_file(tmp_path: Path) -> None:
    config = _docker_config(tmp_path, {"localhost:5000": {"auth": "not base64!"}})
    path = config / "config.json"
    with pytest.raises(
        RegistryAuthError,
        match=rf"^{path}: auths.localhost:5000: 'auth' is not base64 of user:password; run docker login again$",
    ):
        find_credentials("localhost:5000", environ={"DOCKER_CONFIG": str(config)})
    path.write_text("{")
    with pytest.raises(RegistryAuthError, match=rf"^{path}: cannot read Docker's config"):
        find_credentials("localhost:5000", environ={"DOCKER_CONFIG": str(config)})


def test_parse_challenge() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"'
    )
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.get("realm") == "https://auth.example/token"
    assert challenge.get("service") == "registry.example"
    assert challenge.scopes() == ("repository:a:pull,push", "repository:b:pull")
    basic = parse_challenge('Basic realm="x"')
    assert basic is not None and basic.scheme == "basic" and basic.scopes() == ()
    assert parse_challenge(None) is None
    assert parse_challenge("  ") is None


@pytest.mark.parametrize(
    ("registry", "url"),
    [
        ("docker.io", "https://registry-1.docker.io"),
        ("ghcr.io", "https://ghcr.io"),
        ("reg.example:5000", "https://reg.example:5000"),
        ("localhost:5000", "http://localhost:5000"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("127.1.2.3", "http://127.1.2.3"),
        ("[::1]:5000", "http://[::1]:5000"),
        ("10.0.0.1:5000", "https://10.0.0.1:5000"),
    ],
)
def test_plain_http_only_for_loopback(registry: str, url: str) -> None:
    assert base_url(registry) == url


def test_is_loopback() -> None:
    assert is_loopback("registry.localhost")
    assert not is_loopback("localhost.example")


def _docker_config(folder: Path, auths: dict[str, dict[str, str]]) -> Path:
    (folder / "config.json").write_text(json.dumps({"auths": auths, "credsStore": "pass"}))
    return folder


def _auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_scopes_merge_by_resource() -> None:
    assert merge_scopes(
        "repository:team/to:pull,push", "repository:team/from:pull", "repository:team/to:push,pull"
    ) == ["repository:team/from:pull", "repository:team/to:pull,push"]
    assert merge_scopes("registry:catalog:*") == ["registry:catalog:*"]
