"""The image configuration blob as a frozen value: how to run the image, and which layers
(by diff id) make its file system. Read with `ImageConfig.from_dict`, which checks every type
it reads; written with `to_dict` (its canonical JSON's digest is Docker's image id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from imagekit.image._fields import as_list, as_object, str_list, str_map
from imagekit.image.digest import Digest, parse_digest
from imagekit.image.errors import OciError


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        d = as_object(d, where)
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
        history = as_list(d.get("history") or [], f"{where}: history")
        ports = as_object(config.get("ExposedPorts") or {}, f"{where}: ExposedPorts")
        return cls(
            architecture=str(d.get("architecture", "")),
            os=str(d.get("os", "")),
            created=str(d.get("created", "")),
            diff_ids=tuple(
                parse_digest(x, f"{where}: rootfs") for x in str_list(rootfs, "diff_ids", where)
            ),
            history=tuple(
                History.from_dict(h, f"{where}: history[{i}]") for i, h in enumerate(history)
            ),
            env=str_list(config, "Env", where),
            labels=str_map(config, "Labels", where),
            user=str(config.get("User") or ""),
            workdir=str(config.get("WorkingDir") or ""),
            entrypoint=None if entrypoint is None else str_list(config, "Entrypoint", where),
            cmd=None if cmd is None else str_list(config, "Cmd", where),
            exposed_ports=tuple(sorted(str(port) for port in ports)),
        )
