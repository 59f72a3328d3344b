"""The bake file buildx reads, checked before imagekit writes one.

buildx reads a JSON bake file with HCL's JSON syntax (`bake/hcl.go` `ParseHCLFile`) and decodes
it into `bake/bake.go`'s `Config`, `Group` and `Target` by their `hcl` tags with gohcl
(`bake/hclparser/hclparser.go` `decodeBody`), which refuses an attribute the struct does not
name. The attributes and types below are those structs' fields, from docker/buildx at commit
461836ba0fcb3e847dab6045a726889faa150bdb (v0.36.0-54-g461836ba); the list attributes' entries
are what `util/buildflags/*_cty.go` convert (`attests_cty.go`, `cache_cty.go`, `export_cty.go`,
`secrets_cty.go`, `ssh_cty.go`, `resources_cty.go`, `policy_cty.go`): a CSV string such as
`type=registry,ref=r/x:cache`, or an object of strings. Target and group names must match
`validTargetNameChars` (`[a-zA-Z0-9_-]+`). imagekit writes only `group` and `target` blocks.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from imagekit.errors import ImagekitError

BUILDX_COMMIT = "461836ba0fcb3e847dab6045a726889faa150bdb"
BUILDX_VERSION = "v0.36.0-54-g461836ba"
NAME = re.compile(r"[a-zA-Z0-9_-]+")  # bake.go validTargetNameChars


_EntryCheck = Callable[[dict[str, object]], bool]


class BakeFileError(ImagekitError):
    """A bake file buildx would refuse or misread; nothing was written."""


class Kind(enum.Enum):
    STRING = "a string"
    BOOL = "true or false"
    STRINGS = "a list of strings"
    STRING_MAP = "an object of strings"
    NULLABLE_MAP = "an object of strings or nulls"  # map[string]*string
    TYPED = "a list of CSV strings or objects of strings with a type"  # attest, cache-*, output
    ENTRIES = "a list of CSV strings or objects of strings"  # policy
    SECRETS = "a list of CSV strings or objects with id, src, env"
    SSH = "a list of CSV strings or objects with id and paths"
    RESOURCES = "an object with memory, memory-swap, cpu-*, cpuset-*"


# bake.go `Target`, by hcl tag (Name is the block's label, not an attribute).
TARGET: Mapping[str, Kind] = {
    "description": Kind.STRING,
    "inherits": Kind.STRINGS,
    "annotations": Kind.STRINGS,
    "attest": Kind.TYPED,
    "context": Kind.STRING,
    "contexts": Kind.STRING_MAP,
    "dockerfile": Kind.STRING,
    "dockerfile-inline": Kind.STRING,
    "args": Kind.NULLABLE_MAP,
    "labels": Kind.NULLABLE_MAP,
    "tags": Kind.STRINGS,
    "cache-from": Kind.TYPED,
    "cache-to": Kind.TYPED,
    "target": Kind.STRING,
    "secret": Kind.SECRETS,
    "ssh": Kind.SSH,
    "platforms": Kind.STRINGS,
    "output": Kind.TYPED,
    "pull": Kind.BOOL,
    "no-cache": Kind.BOOL,
    "network": Kind.STRING,
    "no-cache-filter": Kind.STRINGS,
    "shm-size": Kind.STRING,
    "ulimits": Kind.STRINGS,
    "resources": Kind.RESOURCES,
    "call": Kind.STRING,
    "entitlements": Kind.STRINGS,
    "extra-hosts": Kind.NULLABLE_MAP,
    "policy": Kind.ENTRIES,
}
# bake.go `Group`: `targets` is required (its hcl tag has no `optional`).
GROUP: Mapping[str, Kind] = {"description": Kind.STRING, "targets": Kind.STRINGS}
SECRET_FIELDS: Mapping[str, Kind] = {"id": Kind.STRING, "src": Kind.STRING, "env": Kind.STRING}
SSH_FIELDS: Mapping[str, Kind] = {"id": Kind.STRING, "paths": Kind.STRINGS}
RESOURCE_NUMBERS = ("cpu-shares", "cpu-period", "cpu-quota")
RESOURCE_STRINGS = ("memory", "memory-swap", "cpuset-cpus", "cpuset-mems")


def validate_bake(document: object, where: Path) -> None:
    """Raise `BakeFileError` (one line: the file, the attribute's path, what buildx expects)
    for the first thing in `document` that buildx would refuse."""
    problem = _problem(document)
    if problem:
        raise BakeFileError(
            f"{where}: {problem} (the bake file buildx {BUILDX_VERSION} reads, "
            "bake/bake.go Target); fix the attribute or report it as an imagekit bug"
        )


def _problem(document: object) -> str:
    if not isinstance(document, dict):
        return "the bake file is not a JSON object"
    unknown = sorted(set(document) - {"group", "target"})
    if unknown:
        return f"{unknown[0]}: not a block imagekit writes (group, target)"
    targets = document.get("target", {})
    groups = document.get("group", {})
    problem = _blocks("target", targets, TARGET) or _blocks("group", groups, GROUP)
    if problem:
        return problem
    for name, group in sorted(groups.items()):
        if "targets" not in group:
            return f"group.{name}: targets is required"
        missing = [t for t in group["targets"] if t not in targets and t not in groups]
        if missing:
            return f"group.{name}.targets: {missing[0]!r} is neither a target nor a group"
    return ""


def _blocks(block: str, found: object, attributes: Mapping[str, Kind]) -> str:
    if not isinstance(found, dict):
        return f"{block}: expected an object of named {block}s"
    for name, body in sorted(found.items()):
        if not NAME.fullmatch(name):
            return f"{block}.{name}: a name may hold only letters, digits, '_' and '-'"
        if not isinstance(body, dict):
            return f"{block}.{name}: expected an object"
        for key, value in sorted(body.items()):
            kind = attributes.get(key)
            if kind is None:
                return f"{block}.{name}.{key}: buildx has no such attribute"
            if not _fits(kind, value):
                return f"{block}.{name}.{key}: expected {kind.value}, got {_what(value)}"
    return ""


def _fits(kind: Kind, value: object) -> bool:  # noqa: PLR0911  (one answer per kind)
    match kind:
        case Kind.STRING:
            return isinstance(value, str)
        case Kind.BOOL:
            return isinstance(value, bool)
        case Kind.STRINGS:
            return isinstance(value, list) and all(isinstance(x, str) for x in value)
        case Kind.STRING_MAP:
            return _object_of(value, (str,))
        case Kind.NULLABLE_MAP:
            return _object_of(value, (str, type(None)))
        case Kind.TYPED:
            return _entries(value, lambda e: _object_of(e, (str, bool)) and "type" in e)
        case Kind.ENTRIES:
            return _entries(value, lambda e: _object_of(e, (str, bool)))
        case Kind.SECRETS:
            return _entries(value, lambda e: _fields(e, SECRET_FIELDS))
        case Kind.SSH:
            return _entries(value, lambda e: _fields(e, SSH_FIELDS))
        case Kind.RESOURCES:
            return _resources(value)


def _object_of(value: object, types: tuple[type, ...]) -> bool:
    if not isinstance(value, dict):
        return False
    return all(isinstance(v, types) for v in value.values())


def _entries(value: object, fits: _EntryCheck) -> bool:
    if not isinstance(value, list):
        return False
    return all(_entry(e, fits) for e in value)


def _entry(entry: object, fits: _EntryCheck) -> bool:
    if isinstance(entry, str):
        return "=" in entry  # the CSV form: key=value pairs
    return isinstance(entry, dict) and fits(entry)


def _fields(entry: dict[str, object], fields: Mapping[str, Kind]) -> bool:
    return all(k in fields and _fits(fields[k], v) for k, v in entry.items())


def _resources(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key in RESOURCE_STRINGS:
            ok = isinstance(item, str)
        else:
            ok = key in RESOURCE_NUMBERS and isinstance(item, int) and not isinstance(item, bool)
        if not ok:
            return False
    return True


def _what(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "true/false", str: "a string", int: "a number", float: "a number",
             list: "a list", dict: "an object"}  # fmt: skip
    return names.get(type(value), type(value).__name__)
