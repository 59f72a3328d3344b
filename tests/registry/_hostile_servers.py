"""Hostile registries on this machine: tiny HTTP(S) servers that record every request they get.

A real docker-registry never redirects uploads to another host, drips its answers, or sends
deep JSON, so these cases need fakes; what they check is what crossed the wire (the headers
each server received), not anything inside the code under test.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What to send back; `drip_s` > 0 sends the body (or everything, with `drip_head`) one
    byte at a time with that pause between bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drip_s: float = 0.0
    drip_head: bool = False


Handler = Callable[[Seen], Answer]


@dataclass(slots=True)
class Server:
    """A running server: where it listens and every request it got, in order."""

    handler: Handler
    host: str
    tls: bool
    port: int = 0
    seen: list[Seen] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"


def _request_handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            server.seen.append(seen)
            answer = server.handler(seen)
            head = [f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}"]
            headers = {"Content-Length": str(len(answer.body)), **answer.headers}
            head += [f"{name}: {value}" for name, value in headers.items()]
            raw_head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
            body = b"" if self.command == "HEAD" else answer.body
            with suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                if answer.drip_head:
                    self._drip(raw_head + body, answer.drip_s)
                    return
                self.wfile.write(raw_head)
                self.wfile.flush()
                if answer.drip_s:
                    self._drip(body, answer.drip_s)
                else:
                    self.wfile.write(body)

        def _drip(self, data: bytes, pause_s: float) -> None:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(pause_s)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return RequestHandler


@contextmanager
def serve(
    handler: Handler, *, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Iterator[Server]:
    """A server on a free port of `host` answering with `handler` (over TLS with `tls`)."""
    server = Server(handler=handler, host=host, tls=tls is not None)
    httpd = ThreadingHTTPServer((host, 0), _request_handler(server))
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def outward_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (a registry there is spoken to
    over HTTPS), or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: picks a route, sends nothing
        except OSError:
            return None
        address = str(sock.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalCA:
    """A certificate authority written to `bundle`, and a server context for `host`."""

    host: str
    bundle: Path
    server: ssl.SSLContext


def make_ca(folder: Path, host: str) -> LocalCA:
    """A CA (its certificate in `folder`/ca.pem, for SSL_CERT_FILE) and a TLS context for a
    server at the IP address `host`, with a certificate that CA signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imagekit test CA")])
    ca = (
        _valid(x509.CertificateBuilder(), now)
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _valid(x509.CertificateBuilder(), now)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / "ca.pem"
    bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return LocalCA(host=host, bundle=bundle, server=context)


def _valid(builder: x509.CertificateBuilder, now: datetime.datetime) -> x509.CertificateBuilder:
    return (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
