"""Test support: real local registries (Debian's docker-registry) and small OCI layouts.

A registry is started from a generated config on a free loopback port, waited for until
`/v2/` answers, and stopped by its pid. Layouts are built here byte for byte (a layer tar,
a config, a manifest), independently of the code under test.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import pytest

from imagekit.image.digest import Digest
from imagekit.registry import Exchange

REGISTRY_BINARY = "docker-registry"
NO_REGISTRY = (
    "Debian's docker-registry is not installed (apt-get install docker-registry); "
    "CI installs it in .ci/run"
)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaTypes:
    manifest: str
    config: str
    layer: str


OCI_TYPES = MediaTypes(
    manifest=OCI_MANIFEST,
    config="application/vnd.oci.image.config.v1+json",
    layer="application/vnd.oci.image.layer.v1.tar",
)
DOCKER_TYPES = MediaTypes(
    manifest=DOCKER_MANIFEST,
    config="application/vnd.docker.container.image.v1+json",
    layer="application/vnd.docker.image.rootfs.diff.tar.gzip",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalRegistry:
    address: str  # 127.0.0.1:PORT
    storage: Path
    log: Path

    def blob_data(self, repository: str, digest: str) -> Path:
        """Where the filesystem driver keeps a blob's bytes (repository links point here)."""
        hexdigest = digest.removeprefix("sha256:")
        root = self.storage / "docker" / "registry" / "v2" / "blobs" / "sha256"
        return root / hexdigest[:2] / hexdigest / "data"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(storage: Path, address: str, auth: str) -> str:
    return f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {address}
{auth}"""


@contextmanager
def local_registry(workdir: Path, *, auth: str = "") -> Iterator[LocalRegistry]:
    """A docker-registry serving on a free loopback port, storage under `workdir`.

    `auth` is the config's `auth:` section (YAML text). Skips when the binary is missing.
    """
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        pytest.skip(NO_REGISTRY)
    workdir.mkdir(parents=True, exist_ok=True)
    address = f"127.0.0.1:{free_port()}"
    registry = LocalRegistry(address=address, storage=workdir / "storage", log=workdir / "log")
    config = workdir / "config.yml"
    config.write_text(_config(registry.storage, address, auth))
    with registry.log.open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(process, registry)
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], registry: LocalRegistry) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with suppress(OSError, http.client.HTTPException):
            status = api_status(registry.address, "GET", "/v2/")
            if status in {200, 401}:
                return
        time.sleep(0.1)
    tail = registry.log.read_text(errors="replace")[-2000:]
    pytest.fail(f"docker-registry did not answer on {registry.address}; log tail:\n{tail}")


def api_status(address: str, method: str, path: str) -> int:
    """The status of one plain request to a loopback registry."""
    connection = http.client.HTTPConnection(address, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@contextmanager
def anonymous_registry(workdir: Path) -> Iterator[str]:
    """CI's registry (IMAGEKIT_TEST_REGISTRY, exported by .ci/run) or one started here."""
    if address := os.environ.get("IMAGEKIT_TEST_REGISTRY"):
        yield address
        return
    with local_registry(workdir) as registry:
        yield registry.address


def htpasswd_auth(workdir: Path, users: dict[str, str]) -> str:
    """An `auth: htpasswd:` config section for `users` (bcrypt entries, as the registry wants)."""
    path = workdir / "htpasswd"
    workdir.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}"
        for user, password in sorted(users.items())
    ]
    path.write_text("\n".join(lines) + "\n")
    return f"auth:\n  htpasswd:\n    realm: imagekit-test\n    path: {path}\n"


def docker_config(folder: Path, registry: str, user: str, password: str) -> Path:
    """A Docker `config.json` in `folder` with base64 `auth` for `registry`."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = {"auths": {f"http://{registry}": {"auth": auth}, "other.example:5000": {}}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@dataclass(slots=True)
class RequestLog:
    """An observer that keeps every exchange; counts blob uploads."""

    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for e in self.exchanges if e.method == method and fragment in e.url)

    def uploads(self) -> int:
        """Requests that send blob content or open an upload (POST/PATCH/PUT on blobs)."""
        return sum(
            1
            for e in self.exchanges
            if e.method in {"POST", "PATCH", "PUT"} and "/blobs/uploads/" in e.url
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltLayout:
    root: Path
    manifest_digest: Digest
    blobs: tuple[Digest, ...]  # config, then layers


def digest(data: bytes) -> Digest:
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def pattern(seed: str, size: int) -> bytes:
    """`size` deterministic, incompressible bytes."""
    blocks = (hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def layer_tar(files: dict[str, bytes]) -> bytes:
    """A tar with fixed metadata, so the same files always give the same bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_layout(
    root: Path, *, seed: str = "imagekit", size: int = 70_000, docker: bool = False
) -> BuiltLayout:
    """An OCI layout of one image: two layers (one about `size` bytes), tagged `1.0`.

    `docker=True` makes it a Docker v2 schema 2 manifest with gzip layers instead.
    """
    layers = [
        layer_tar({"app/data.bin": pattern(seed, size)}),
        layer_tar({"app/hello.txt": f"hello from {seed}\n".encode()}),
    ]
    types = DOCKER_TYPES if docker else OCI_TYPES
    blobs = [gzip.compress(layer, mtime=0) for layer in layers] if docker else layers
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/app/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [digest(layer) for layer in layers]},
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": types.manifest,
        "config": _descriptor(types.config, config_bytes),
        "layers": [_descriptor(types.layer, blob) for blob in blobs],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    for blob in (config_bytes, *blobs, manifest_bytes):
        path = root / "blobs" / "sha256" / digest(blob).removeprefix("sha256:")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    entry = _descriptor(types.manifest, manifest_bytes)
    entry["annotations"] = {"org.opencontainers.image.ref.name": "1.0"}
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return BuiltLayout(
        root=root,
        manifest_digest=digest(manifest_bytes),
        blobs=tuple(digest(b) for b in (config_bytes, *blobs)),
    )


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": digest(data), "size": len(data)}


def layout_blobs(root: Path) -> dict[str, bytes]:
    """Every blob of a layout by digest."""
    folder = root / "blobs" / "sha256"
    return {f"sha256:{p.name}": p.read_bytes() for p in sorted(folder.iterdir())}
