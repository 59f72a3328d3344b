"""Images built in memory for the inventory tests: layer tars, OCI layouts, docker archives."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.inventory import wanted
from imagekit.inventory.interface import LayerStream
from imagekit.inventory.layers import View, scan_layer, stack
from imagekit.plan.model import PLAN_PATH_IN_IMAGE

DATA = Path(__file__).resolve().parent.parent / "data" / "inventory"


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    name: str
    kind: bytes = tarfile.REGTYPE
    data: bytes = b""
    link: str = ""


def file(name: str, data: bytes | str = b"") -> Member:
    return Member(name=name, data=data.encode() if isinstance(data, str) else data)


def symlink(name: str, target: str) -> Member:
    return Member(name=name, kind=tarfile.SYMTYPE, link=target)


def hardlink(name: str, target: str) -> Member:
    return Member(name=name, kind=tarfile.LNKTYPE, link=target)


def directory(name: str) -> Member:
    return Member(name=name, kind=tarfile.DIRTYPE)


def layer(*members: Member) -> bytes:
    """An uncompressed layer tar holding `members`, in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = m.kind
            info.linkname = m.link
            info.mode = 0o755 if m.kind == tarfile.DIRTYPE else 0o644
            info.size = len(m.data) if m.kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(m.data) if m.kind == tarfile.REGTYPE else None)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def config(layers: list[bytes], **extra: Any) -> bytes:
    """An image config whose diff ids are the (uncompressed) layers'."""
    doc = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"org.opencontainers.image.base.name": "scratch"}},
        "rootfs": {"type": "layers", "diff_ids": [sha256(x) for x in layers]},
        **extra,
    }
    return json.dumps(doc).encode()


def _blob(root: Path, data: bytes) -> dict[str, Any]:
    digest = sha256(data)
    path = root / "blobs" / "sha256" / digest.removeprefix("sha256:")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def oci_layout(
    root: Path, layers: list[bytes], *, compress: bool = True, platform: str = "linux/amd64"
) -> dict[str, Any]:
    """Write an OCI layout of one image; returns its manifest descriptor."""
    os_name, arch = platform.split("/")
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    cfg = _blob(root, config(layers, architecture=arch, os=os_name))
    kind = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
        "layers": [{"mediaType": kind, **_blob(root, gz(x) if compress else x)} for x in layers],
    }
    desc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_blob(root, json.dumps(manifest).encode()),
        "platform": {"os": os_name, "architecture": arch},
    }
    index = root / "index.json"
    manifests: list[dict[str, Any]] = []
    if index.exists():
        manifests = json.loads(index.read_text())["manifests"]
    doc = {"schemaVersion": 2, "manifests": [*manifests, desc]}
    index.write_text(json.dumps(doc))
    return desc


def docker_archive(
    path: Path, layers: list[bytes], *, blobs: bool = False, config_of: list[bytes] | None = None
) -> Path:
    """A `docker save` archive: the classic layout, or Docker 25+'s `blobs/sha256/` one; its
    config lists the diff ids of `config_of` (default: `layers`)."""
    cfg = config(layers if config_of is None else config_of)
    members: list[Member] = []
    names: list[str] = []
    for i, data in enumerate(layers):
        digest = sha256(data).removeprefix("sha256:")
        name = f"blobs/sha256/{digest}" if blobs else f"{i:064x}/layer.tar"
        if name not in names:
            members.append(file(name, data))
        names.append(name)
    cfg_name = f"blobs/sha256/{sha256(cfg)[7:]}" if blobs else f"{sha256(cfg)[7:]}.json"
    members.append(file(cfg_name, cfg))
    manifest = [{"Config": cfg_name, "RepoTags": ["test/image:1"], "Layers": names}]
    members.append(file("manifest.json", json.dumps(manifest)))
    path.write_bytes(layer(*members))
    return path


def plan(*artifacts: tuple[str, str]) -> bytes:
    """A stored plan naming artifacts as (dest, sha256), with one dataset and one source."""
    doc = {
        "artifacts": [
            {"name": f"model-{i}", "path": f"model/{i}", "dest": dest, "sha256": digest, "card": {}}
            for i, (dest, digest) in enumerate(artifacts)
        ],
        "datasets": [{"name": "iris", "uri": "https://example.org/iris", "version": "1"}],
        "sources": [
            {"name": "src", "uri": "https://example.org/src", "version": "2", "revision": "abc"}
        ],
    }
    return json.dumps(doc).encode()


PLAN = PLAN_PATH_IN_IMAGE.lstrip("/")
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'


def view_of(*layers: bytes) -> View:
    """The final view of layers (base first), keeping what the inventory readers read."""
    scans = [
        scan_layer(LayerStream(name=f"layer-{i}", media_type=None, stream=io.BytesIO(x)), wanted)
        for i, x in enumerate(layers)
    ]
    return stack(scans, (), "test")
