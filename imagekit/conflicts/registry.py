"""The deployment registry: which models run together, and which must never.

```toml
[[groups]]
name = "pool-a"
shares = "host"            # "host": one GPU host (one driver); "base": one shared base image

[[models]]
name = "iris"
project = "../examples/iris"          # a model folder, relative to this file; or
# image = "registry.example.com/ml/iris:1.0.0"
group = "pool-a"

[[incompatible]]
a = "iris"
b = "torch-classifier"
reason = "both bind port 8080 on the host network"
```

Parsed once into frozen values; a wrong type, an unknown key, a group or model that is not
defined, or a project folder that does not exist raises `InputError` naming the file and key.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from imagekit.errors import InputError, Location
from imagekit.tomlfile import Table, load_toml


class Shares(enum.StrEnum):
    HOST = "host"  # the models run on the same GPU hosts: one driver, one CUDA major
    BASE = "base"  # the models are built on one shared base image and its packages


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    name: str
    shares: Shares
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredModel:
    """A model of the registry: a model folder (`project`) or a built image (`image`)."""

    name: str
    group: str
    location: Location
    project: Path | None = None  # resolved, absolute
    image: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Incompatible:
    a: str
    b: str
    reason: str
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    file: Path
    groups: tuple[Group, ...]
    models: tuple[RegisteredModel, ...]
    incompatible: tuple[Incompatible, ...]

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)

    def members(self, group: str) -> tuple[RegisteredModel, ...]:
        return tuple(m for m in self.models if m.group == group)


T = TypeVar("T", Group, RegisteredModel)


def load_registry(path: Path) -> Registry:
    """Read and validate a deployment registry file; raises `InputError`."""
    file = path.resolve()
    t = Table(load_toml(file), file)
    groups = _unique(tuple(_group(g) for g in t.tables("groups")))
    names = {g.name for g in groups}
    models = _unique(tuple(_model(m, names, file.parent) for m in t.tables("models")))
    known = {m.name for m in models}
    incompatible = tuple(_incompatible(i, known) for i in t.tables("incompatible"))
    t.reject_unknown()
    return Registry(file=file, groups=groups, models=models, incompatible=incompatible)


def _unique(items: tuple[T, ...]) -> tuple[T, ...]:
    seen: dict[str, Location] = {}
    for item in items:
        if item.name in seen:
            raise InputError(
                item.location,
                f"{item.name!r} is defined twice (also at {seen[item.name].key})",
                "give each a name of its own",
            )
        seen[item.name] = item.location
    return items


def _group(t: Table) -> Group:
    name = t.req_str("name")
    value = t.req_str("shares")
    try:
        shares = Shares(value)
    except ValueError as e:
        raise InputError(
            t.location("shares"), f"unknown sharing {value!r}", 'use "host" or "base"'
        ) from e
    t.reject_unknown()
    return Group(name=name, shares=shares, location=t.location())


def _model(t: Table, groups: set[str], root: Path) -> RegisteredModel:
    name = t.req_str("name")
    group = t.req_str("group")
    if group not in groups:
        raise InputError(
            t.location("group"),
            f"group {group!r} is not defined",
            f"add a [[groups]] entry named {group!r} or use one of: {', '.join(sorted(groups))}",
        )
    project, image = t.get_str("project"), t.get_str("image")
    if (project is None) == (image is None):
        raise InputError(
            t.location(), f"model {name!r} needs one of `project` and `image`", "set exactly one"
        )
    t.reject_unknown()
    folder = (root / project).resolve() if project is not None else None
    if folder is not None and not folder.is_dir():
        raise InputError(
            t.location("project"),
            f"model {name!r}: no model folder at {folder}",
            "correct the path (relative to this file) or remove the model",
        )
    return RegisteredModel(
        name=name, group=group, location=t.location(), project=folder, image=image
    )


def _incompatible(t: Table, models: set[str]) -> Incompatible:
    pair = (t.req_str("a"), t.req_str("b"))
    for key, name in zip(("a", "b"), pair, strict=True):
        if name not in models:
            raise InputError(
                t.location(key),
                f"model {name!r} is not in [[models]]",
                "register it or correct the name",
            )
    reason = t.req_str("reason").strip()
    if not reason:
        raise InputError(t.location("reason"), "the reason is empty", "say why, in one line")
    if pair[0] == pair[1]:
        raise InputError(t.location("b"), "a model cannot be incompatible with itself", "fix b")
    t.reject_unknown()
    return Incompatible(a=pair[0], b=pair[1], reason=reason, location=t.location())
