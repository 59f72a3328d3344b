"""Authentication against real registries: htpasswd (basic) and token (bearer) modes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _registry_support import (
    LocalRegistry,
    RequestLog,
    build_layout,
    docker_config,
    htpasswd_auth,
    layout_blobs,
    local_registry,
)
from _token_server import TokenServer, token_server

from imagekit.registry import (
    ClientOptions,
    RegistryAuthError,
    pull_to_layout,
    push_layout,
)

USER, PASSWORD = "model-team", "correct horse"


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test states its credentials; none leak in from the machine."""
    monkeypatch.delenv("IMAGEKIT_REGISTRY_USER", raising=False)
    monkeypatch.delenv("IMAGEKIT_REGISTRY_PASSWORD", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    workdir = tmp_path_factory.mktemp("basic-registry")
    with local_registry(workdir, auth=htpasswd_auth(workdir, {USER: PASSWORD})) as registry:
        yield registry


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    with token_server(USER, PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, tokens: TokenServer
) -> Iterator[LocalRegistry]:
    workdir = tmp_path_factory.mktemp("token-registry")
    with local_registry(workdir, auth=tokens.auth_config(workdir / "token.pem")) as registry:
        yield registry


def _login_by_env(monkeypatch: pytest.MonkeyPatch, password: str = PASSWORD) -> None:
    monkeypatch.setenv("IMAGEKIT_REGISTRY_USER", USER)
    monkeypatch.setenv("IMAGEKIT_REGISTRY_PASSWORD", password)


def test_basic_auth_push_with_env_and_pull_with_docker_config(
    basic_registry: LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = build_layout(tmp_path / "layout", seed="basic")
    ref = f"{basic_registry.address}/team/basic:1"
    _login_by_env(monkeypatch)
    log = RequestLog()
    assert push_layout(built.root, ref, options=ClientOptions(observer=log)).digest == (
        built.manifest_digest
    )
    assert [e.status for e in log.exchanges].count(401) == 1  # one challenge, then basic

    monkeypatch.delenv("IMAGEKIT_REGISTRY_USER")
    monkeypatch.delenv("IMAGEKIT_REGISTRY_PASSWORD")
    config = docker_config(tmp_path / "docker", basic_registry.address, USER, PASSWORD)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    assert pull_to_layout(ref, tmp_path / "pulled") == built.manifest_digest
    assert layout_blobs(tmp_path / "pulled") == layout_blobs(built.root)


def test_basic_auth_without_credentials(basic_registry: LocalRegistry, tmp_path: Path) -> None:
    ref = f"{basic_registry.address}/team/basic:1"
    with pytest.raises(
        RegistryAuthError,
        match=rf"^{ref}: {basic_registry.address} requires a login: set IMAGEKIT_REGISTRY_USER and IMAGEKIT_REGISTRY_PASSWORD, or run docker login {basic_registry.address}$",
    ):
        pull_to_layout(ref, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_basic_auth_with_a_wrong_password(
    basic_registry: LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login_by_env(monkeypatch, "wrong")
    built = build_layout(tmp_path / "layout", seed="basic-wrong")
    ref = f"{basic_registry.address}/team/basic:2"
    with pytest.raises(
        RegistryAuthError,
        match=rf"^{ref}: {basic_registry.address} refused the credentials from IMAGEKIT_REGISTRY_USER \(check the user name and password\)$",
    ):
        push_layout(built.root, ref)


def test_token_auth_push_and_pull_cache_tokens_per_scope(
    token_registry: LocalRegistry,
    tokens: TokenServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _login_by_env(monkeypatch)
    built = build_layout(tmp_path / "layout", seed="token")
    ref = f"{token_registry.address}/team/token:1"
    tokens.requests.clear()
    log = RequestLog()
    pushed = push_layout(built.root, ref, options=ClientOptions(chunk_size=16_384, observer=log))
    assert pushed.digest == built.manifest_digest
    # One token for the whole push (HEADs, uploads, chunks, manifest): cached for its scope; the
    # registry's `pull` challenge and our `pull,push` merge into one scope for the repository.
    assert tokens.requests == [("repository:team/token:pull,push",)]
    assert [e.status for e in log.exchanges].count(401) == 1
    assert log.count("PATCH", "/blobs/uploads/") > 1

    assert pull_to_layout(ref, tmp_path / "pulled") == built.manifest_digest
    assert layout_blobs(tmp_path / "pulled") == layout_blobs(built.root)
    assert tokens.requests[1:] == [("repository:team/token:pull",)]


def test_token_auth_mount_asks_for_both_repositories(
    token_registry: LocalRegistry,
    tokens: TokenServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _login_by_env(monkeypatch)
    built = build_layout(tmp_path / "layout", seed="token-mount")
    push_layout(built.root, f"{token_registry.address}/team/from:1")
    tokens.requests.clear()
    result = push_layout(built.root, f"{token_registry.address}/team/to:1", mount_from="team/from")
    assert sorted(result.mounted) == sorted(built.blobs)
    assert ("repository:team/from:pull", "repository:team/to:pull,push") in tokens.requests


def test_token_auth_with_a_wrong_password(
    token_registry: LocalRegistry,
    tokens: TokenServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _login_by_env(monkeypatch, "wrong")
    refused = tokens.refused
    ref = f"{token_registry.address}/team/token:1"
    with pytest.raises(
        RegistryAuthError,
        match=rf"^{ref}: {token_registry.address} refused the credentials from IMAGEKIT_REGISTRY_USER",
    ):
        pull_to_layout(ref, tmp_path / "out")
    assert tokens.refused == refused + 1
    assert not (tmp_path / "out").exists()
