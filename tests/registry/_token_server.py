"""A tiny loopback token server for docker-registry's `auth: token:` mode.

It checks HTTP basic credentials, grants every scope asked for, and signs ES256 JWTs whose
`x5c` header carries a self-signed certificate that the registry trusts (`rootcertbundle`).
It records the scopes of every token request so tests can see the client's cache at work.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

SERVICE = "imagekit-test-registry"
ISSUER = "imagekit-test-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(slots=True, kw_only=True)
class TokenServer:
    """Issues tokens at `realm` for `username`/`password`; `requests` lists each one's scopes."""

    username: str
    password: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    port: int = 0
    requests: list[tuple[str, ...]] = field(default_factory=list)
    refused: int = 0

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def auth_config(self, bundle: Path) -> str:
        """The registry's `auth: token:` section; writes the certificate to `bundle`."""
        bundle.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return (
            f"auth:\n  token:\n    realm: {self.realm}\n    service: {SERVICE}\n"
            f"    issuer: {ISSUER}\n    rootcertbundle: {bundle}\n"
        )

    def authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def token(self, scopes: tuple[str, ...]) -> str:
        now = int(time.time())
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": self.username,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": f"token-{len(self.requests)}",
            "access": [_access(scope) for scope in scopes],
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _access(scope: str) -> dict[str, Any]:
    kind, name_actions = scope.split(":", 1)
    name, _, actions = name_actions.rpartition(":")
    return {"type": kind, "name": name, "actions": actions.split(",")}


def _certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if not server.authorized(self.headers.get("Authorization")):
                server.refused += 1
                self._answer(401, {"details": "bad credentials"})
                return
            scopes = tuple(parse_qs(urlsplit(self.path).query).get("scope", []))
            server.requests.append(scopes)
            self._answer(200, {"token": server.token(scopes), "expires_in": 300})

        def _answer(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def token_server(username: str, password: str) -> Iterator[TokenServer]:
    """A running token server on a free loopback port."""
    key = ec.generate_private_key(ec.SECP256R1())
    server = TokenServer(
        username=username, password=password, key=key, certificate=_certificate(key)
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
