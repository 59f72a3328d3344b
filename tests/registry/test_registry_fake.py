"""Misbehaving registries, which a real one cannot be made into: a tiny fake on loopback.

Used only where the real docker-registry cannot produce the case (it never serves a manifest
under a digest it does not hash to, nor redirects blobs to another host).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _registry_support import OCI_MANIFEST, digest

from imagekit.image.model import Descriptor
from imagekit.registry import (
    ClientOptions,
    Credentials,
    DigestMismatchError,
    RegistryAuthError,
    RegistryClient,
    RegistryUnreachableError,
    parse_reference,
    pull_to_layout,
)

Route = tuple[int, dict[str, str], bytes]


@dataclass(slots=True)
class FakeRegistry:
    routes: dict[str, Route]
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, auth
    port: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def _handler(fake: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.seen.append(("GET", self.path, self.headers.get("Authorization")))
            status, headers, body = fake.routes.get(self.path, (404, {}, b"{}"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fake_registry(routes: dict[str, Route]) -> Iterator[FakeRegistry]:
    fake = FakeRegistry(routes=routes)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _manifest(layer: bytes) -> bytes:
    config = b"{}"
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "c", "digest": digest(config), "size": len(config)},
            "layers": [{"mediaType": "l", "digest": digest(layer), "size": len(layer)}],
        }
    ).encode()


def test_manifest_not_matching_the_requested_digest_is_refused(tmp_path: Path) -> None:
    served = _manifest(b"layer")
    asked = digest(_manifest(b"another layer"))
    headers = {"Content-Type": OCI_MANIFEST}
    with fake_registry({f"/v2/app/manifests/{asked}": (200, headers, served)}) as fake:
        ref = f"{fake.address}/app@{asked}"
        with pytest.raises(
            DigestMismatchError,
            match=rf"^{ref}: refused manifest {asked}: its content hashes to {digest(served)}$",
        ):
            pull_to_layout(ref, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_manifest_not_matching_the_declared_digest_is_refused(tmp_path: Path) -> None:
    served = _manifest(b"layer")
    declared = "sha256:" + "0" * 64
    headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": declared}
    with (
        fake_registry({"/v2/app/manifests/1": (200, headers, served)}) as fake,
        pytest.raises(
            DigestMismatchError,
            match=rf"refused manifest {declared}: its content hashes to {digest(served)}$",
        ),
    ):
        pull_to_layout(f"{fake.address}/app:1", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_blob_redirect_to_another_host_drops_the_credentials(tmp_path: Path) -> None:
    data = b"blob bytes"
    blob = Descriptor(media_type="l", digest=digest(data), size=len(data))
    with fake_registry({"/storage/blob": (200, {}, data)}) as storage:
        redirect = (307, {"Location": f"http://{storage.address}/storage/blob"}, b"")
        with fake_registry({f"/v2/app/blobs/{blob.digest}": redirect}) as fake:
            creds = Credentials(username="u", password="p", source="test")  # noqa: S106 (a test login)
            options = ClientOptions(credentials=creds)
            client = RegistryClient(
                parse_reference(f"{fake.address}/app:1"), push=False, options=options
            )
            client._session._basic = True  # as after a basic challenge
            client.get_blob(blob, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == data
    assert fake.seen[0][2] == creds.basic_header()
    assert storage.seen == [("GET", "/storage/blob", None)]


def test_truncated_blob_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    data = b"x" * 1000
    blob = Descriptor(media_type="l", digest=digest(data), size=len(data))
    short = (200, {"Content-Length": "1000"}, data[:10])  # the server hangs up early
    with fake_registry({f"/v2/app/blobs/{blob.digest}": short}) as fake:
        client = RegistryClient(parse_reference(f"{fake.address}/app:1"), push=False)
        with pytest.raises(
            RegistryUnreachableError,
            match=rf"the connection closed after 10 bytes of blob {blob.digest} \(990 more "
            r"announced\); pull again$",
        ):
            client.get_blob(blob, tmp_path / "blob")
    assert list(tmp_path.iterdir()) == []


def test_401_without_a_usable_challenge(tmp_path: Path) -> None:
    with (
        fake_registry(
            {"/v2/app/manifests/1": (401, {"WWW-Authenticate": "Negotiate"}, b"")}
        ) as fake,
        pytest.raises(
            RegistryAuthError, match=r"answered 401 without a basic or bearer challenge$"
        ),
    ):
        pull_to_layout(f"{fake.address}/app:1", tmp_path / "out")


def test_plain_http_token_realm_on_another_host_is_refused(tmp_path: Path) -> None:
    challenge = 'Bearer realm="http://auth.example/token",service="s"'
    with (
        fake_registry({"/v2/app/manifests/1": (401, {"WWW-Authenticate": challenge}, b"")}) as fake,
        pytest.raises(
            RegistryAuthError,
            match=r"token realm http://auth.example/token is plain HTTP on another host; refused$",
        ),
    ):
        pull_to_layout(f"{fake.address}/app:1", tmp_path / "out")
