"""The OCI image format as frozen values: descriptors, the image config, the manifest.

Each is parsed from its JSON at the boundary (`parse_json`, bounded in size and depth, then
`from_dict`, which checks every type it reads) and written back with `to_dict`;
`canonical_json` gives the bytes whose sha256 is the blob's digest (sorted keys, no spaces),
so the same values always give the same digests.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NewType

from imagekit.errors import ImagekitError, InputError
from imagekit.limits import load_json, shown

Digest = NewType("Digest", str)  # "sha256:<64 hex digits>"

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
REF_NAME = "org.opencontainers.image.ref.name"


class OciError(ImagekitError):
    """An OCI layout, archive or blob is missing, corrupt, or cannot be written."""

    exit_code = 3


class Compression(enum.StrEnum):
    GZIP = "gzip"
    ZSTD = "zstd"

    @property
    def media_type(self) -> str:
        return f"{LAYER_TAR}+{self.value}"


def digest_of(data: bytes) -> Digest:
    return Digest(f"sha256:{hashlib.sha256(data).hexdigest()}")


def parse_digest(value: object, where: str) -> Digest:
    """`value` as a digest; raises `OciError` naming `where` otherwise."""
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise OciError(f"{where}: {value!r} is not a sha256 digest")
    return Digest(value)


def canonical_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(data: bytes, where: str) -> dict[str, Any]:
    """A JSON object read from an untrusted file or blob, bounded in size and nesting
    (`imagekit.limits.load_json`); raises `OciError` naming `where`."""
    try:
        value = load_json(data, where)
    except InputError as e:
        raise OciError(str(e)) from e
    if not isinstance(value, dict):
        raise OciError(f"{where}: not a JSON object")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OciError(f"{where}: not a JSON object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise OciError(f"{where}: not a JSON list")
    return value


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _str_list(d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = d.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise OciError(f"{where}: {key} is not a list of strings")
    return tuple(value)


def _str_map(d: dict[str, Any], key: str, where: str) -> tuple[tuple[str, str], ...]:
    value = d.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise OciError(f"{where}: {key} is not a map of strings")
    return tuple(sorted(value.items()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    annotations: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> Descriptor:
        d = _object(d, where)
        size = d.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise OciError(f"{where}: descriptor size {shown(size, 40)} is not a byte count")
        return cls(
            media_type=str(d.get("mediaType", "")),
            digest=parse_digest(d.get("digest"), where),
            size=size,
            annotations=_str_map(d, "annotations", where),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerBlob:
    """A layer blob: its descriptor (compressed digest) and its diff id (uncompressed)."""

    descriptor: Descriptor
    diff_id: Digest


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    created: str
    created_by: str
    comment: str = ""
    empty_layer: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"created": self.created, "created_by": self.created_by}
        if self.comment:
            d["comment"] = self.comment
        if self.empty_layer:
            d["empty_layer"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "history") -> History:
        d = _object(d, where)
        return cls(
            created=str(d.get("created", "")),
            created_by=str(d.get("created_by", "")),
            comment=str(d.get("comment", "")),
            empty_layer=d.get("empty_layer") is True,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageConfig:
    """The image configuration blob: how to run it, and which layers make its file system."""

    architecture: str
    os: str
    created: str
    diff_ids: tuple[Digest, ...]
    history: tuple[History, ...]
    env: tuple[str, ...] = ()  # "KEY=value", in order
    labels: tuple[tuple[str, str], ...] = ()
    user: str = ""
    workdir: str = ""
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    exposed_ports: tuple[str, ...] = ()  # "8080/tcp"

    @property
    def env_map(self) -> dict[str, str]:
        return dict(item.partition("=")[::2] for item in self.env)

    def to_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {"Env": list(self.env), "Labels": dict(self.labels)}
        optional = {"User": self.user, "WorkingDir": self.workdir}
        config.update({k: v for k, v in optional.items() if v})
        if self.entrypoint is not None:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            config["Cmd"] = list(self.cmd)
        if self.exposed_ports:
            config["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        return {
            "architecture": self.architecture,
            "os": self.os,
            "created": self.created,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": list(self.diff_ids)},
            "history": [h.to_dict() for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> ImageConfig:
        config = d.get("config") or {}
        rootfs = d.get("rootfs") or {}
        if not isinstance(config, dict) or not isinstance(rootfs, dict):
            raise OciError(f"{where}: config or rootfs is not an object")
        entrypoint, cmd = config.get("Entrypoint"), config.get("Cmd")
        history = _list(d.get("history") or [], f"{where}: history")
        ports = _object(config.get("ExposedPorts") or {}, f"{where}: ExposedPorts")
        return cls(
            architecture=str(d.get("architecture", "")),
            os=str(d.get("os", "")),
            created=str(d.get("created", "")),
            diff_ids=tuple(
                parse_digest(x, f"{where}: rootfs") for x in _str_list(rootfs, "diff_ids", where)
            ),
            history=tuple(
                History.from_dict(h, f"{where}: history[{i}]") for i, h in enumerate(history)
            ),
            env=_str_list(config, "Env", where),
            labels=_str_map(config, "Labels", where),
            user=str(config.get("User") or ""),
            workdir=str(config.get("WorkingDir") or ""),
            entrypoint=None if entrypoint is None else _str_list(config, "Entrypoint", where),
            cmd=None if cmd is None else _str_list(config, "Cmd", where),
            exposed_ports=tuple(sorted(str(port) for port in ports)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": self.config.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
        }
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> Manifest:
        if d.get("schemaVersion") != 2 or not isinstance(d.get("config"), dict):
            raise OciError(f"{where}: not an OCI image manifest (schemaVersion 2 with a config)")
        return cls(
            config=Descriptor.from_dict(d["config"], f"{where}: config"),
            layers=tuple(
                Descriptor.from_dict(x, f"{where}: layers[{i}]")
                for i, x in enumerate(_list(d.get("layers") or [], f"{where}: layers"))
            ),
            annotations=_str_map(d, "annotations", where),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """An image read from (or written to) a layout: manifest, config, and layers, base first."""

    manifest: Manifest
    manifest_digest: Digest
    config: ImageConfig
    layers: tuple[LayerBlob, ...]
