"""The model spec: `imagekit.toml`, or `[tool.imagekit]` in a model's `pyproject.toml`.

Parsed once, at the boundary, into frozen dataclasses; an unknown key, a wrong type or a missing
required key raises `InputError` naming the file and the key path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from packaging.utils import NormalizedName, canonicalize_name

from imagekit.errors import InputError, Location
from imagekit.limits import shown
from imagekit.paths import contained
from imagekit.tomlfile import Table, load_toml

if TYPE_CHECKING:
    from imagekit.verify.spec import VerifySpec

SPEC_FILE = "imagekit.toml"
PLATFORMS = ("linux/amd64", "linux/arm64")
DEFAULT_USER = "model"
DEFAULT_UID = 10001

_IMAGE_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_APT_PIN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9+.-]+)=(?P<version>[A-Za-z0-9.+~:-]+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """A model file copied into the image, verified against its sha256."""

    name: str
    path: PurePosixPath  # relative to the project
    sha256: str
    dest: PurePosixPath  # absolute path in the image
    card: dict[str, str] = field(default_factory=dict)
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class DataRef:
    """A dataset or an upstream source the model came from; carried into the plan and SBOM."""

    name: str
    uri: str
    version: str
    sha256: str | None = None
    schema_hash: str | None = None
    revision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "uri": self.uri,
            "version": self.version,
            "sha256": self.sha256,
            "schema_hash": self.schema_hash,
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataRef:
        return cls(
            name=d["name"],
            uri=d["uri"],
            version=d["version"],
            sha256=d["sha256"],
            schema_hash=d["schema_hash"],
            revision=d["revision"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemPackage:
    name: str
    version: str
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class AppFiles:
    include: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """Everything a model author says about the image."""

    file: Path
    root: Path
    name: str
    version: str
    description: str
    base: str
    lockfile: Path
    platform: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    workdir: str
    user: str
    ports: tuple[int, ...]
    env: dict[str, str]
    labels: dict[str, str]
    app: AppFiles
    artifacts: tuple[Artifact, ...]
    datasets: tuple[DataRef, ...]
    sources: tuple[DataRef, ...]
    system_packages: tuple[SystemPackage, ...]
    critical: frozenset[NormalizedName]
    optional: frozenset[NormalizedName]
    key_prefix: str = ""
    fleet: Path | None = None  # node pools the image must run on (`imagekit compat --fleet`)
    # The deployment registry the model is registered in (`imagekit conflicts deploy`): a
    # path that may lead out of the model folder; `imagekit build` refuses a conflicting model.
    deployment: Path | None = None
    verify: VerifySpec | None = None  # [verify]: reference inputs and output tolerances
    # The platform team's licence policy (`imagekit licenses --policy`); may be shared too.
    license_policy: Path | None = None

    def location(self, key: str | None = None) -> Location:
        path = ".".join(p for p in (self.key_prefix, key) if p) or None
        return Location(file=self.file, key=path)

    @property
    def image_ref(self) -> str:
        return f"{self.name}:{self.version}"


def find_spec(project: Path) -> tuple[Path, str]:
    """The spec file of a project folder and the key prefix of its table.

    Raises `InputError` when the folder has neither `imagekit.toml` nor a pyproject.toml with
    a `[tool.imagekit]` table.
    """
    if project.is_file():
        return project, ("tool.imagekit" if project.name == "pyproject.toml" else "")
    if not project.is_dir():
        raise InputError(project, "model folder not found", "pass the folder holding imagekit.toml")
    candidate = project / SPEC_FILE
    if candidate.is_file():
        return candidate, ""
    pyproject = project / "pyproject.toml"
    if pyproject.is_file() and "imagekit" in load_toml(pyproject).get("tool", {}):
        return pyproject, "tool.imagekit"
    raise InputError(
        candidate,
        "no model spec found",
        "run `imagekit init` or add [tool.imagekit] to pyproject.toml",
    )


def load_spec(project: Path) -> ModelSpec:
    """Read and validate the spec of a model folder (or a spec file); raises `InputError`."""
    file, prefix = find_spec(project)
    file = file.resolve()
    data: Any = load_toml(file)
    for part in prefix.split(".") if prefix else ():
        data = data[part]
    if not isinstance(data, dict):
        raise InputError(Location(file=file, key=prefix), "must be a table", "use [tool.imagekit]")
    return parse_spec(Table(data, file, prefix), file.parent.resolve(), prefix)


def parse_spec(t: Table, root: Path, prefix: str = "") -> ModelSpec:
    name = t.req_str("name")
    if not _IMAGE_NAME.match(name):
        raise InputError(
            t.location("name"),
            f"{name!r} is not a valid image name",
            "use lowercase letters, digits and single '.', '_' or '-' between them",
        )
    version = t.req_str("version")
    if not _TAG.match(version):
        raise InputError(
            t.location("version"),
            f"{version!r} cannot be an image tag",
            "use letters, digits, '.', '_' and '-' (at most 128)",
        )
    platform = t.get_str("platform", PLATFORMS[0]) or PLATFORMS[0]
    if platform not in PLATFORMS:
        raise InputError(
            t.location("platform"),
            f"unknown platform {platform!r}",
            f"use one of: {', '.join(PLATFORMS)}",
        )
    lockfile = t.req_str("lockfile")
    fleet = t.get_str("fleet")
    spec = ModelSpec(
        file=t.file,
        root=root,
        key_prefix=prefix,
        name=name,
        version=version,
        description=t.get_str("description", "") or "",
        base=t.req_str("base"),
        lockfile=_inside(t, root, "lockfile", lockfile),
        fleet=root / _relative(t, "fleet", fleet) if fleet is not None else None,
        platform=platform,
        entrypoint=t.str_list("entrypoint"),
        cmd=t.str_list("cmd"),
        workdir=_absolute(t, "workdir", t.get_str("workdir", "/app") or "/app"),
        user=_user(t),
        ports=_ports(t),
        env=t.env_map("env"),
        labels=t.str_map("labels"),
        app=_app(t),
        artifacts=_artifacts(t),
        datasets=tuple(_dataref(d) for d in t.tables("datasets")),
        sources=tuple(_dataref(s) for s in t.tables("sources")),
        system_packages=_system(t),
        deployment=_shared_path(t, root, "deployment", "../deploy.toml"),
        license_policy=_shared_path(t, root, "license_policy", "../license-policy.toml"),
        verify=_verify(t.table("verify")),
        **_dependencies(t),
    )
    if not spec.entrypoint and not spec.cmd:
        raise InputError(
            t.location("entrypoint"),
            "the image has nothing to run",
            'set entrypoint = ["python", "-m", "your_model"]',
        )
    t.reject_unknown()
    return spec


def _verify(t: Table | None) -> VerifySpec | None:
    """The [verify] table, parsed by `imagekit.verify.spec` only for a spec that has one:
    importing `imagekit.verify` loads numpy and the docker SDK, which reading a spec without
    [verify] (and so `check`, `plan`, `build` of such a model) must not pay for."""
    if t is None:
        return None
    from imagekit.verify.spec import parse_verify  # noqa: PLC0415 - see the docstring

    return parse_verify(t)


def _no_nul(t: Table, key: str, value: str) -> None:
    """Raises `InputError` for a path with a NUL character, which no file name can hold."""
    if "\0" in value:
        raise InputError(
            t.location(key), f"{shown(value)} contains a NUL character", "remove it from the path"
        )


def _relative(t: Table, key: str, value: str) -> PurePosixPath:
    _no_nul(t, key, value)
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not value:
        raise InputError(
            t.location(key),
            f"{value!r} must be a path inside the model folder",
            "use a relative path without '..'",
        )
    return path


def _inside(t: Table, root: Path, key: str, value: str) -> Path:
    """A relative path that stays inside the model folder once links are followed: a lock
    linked to a host file would be read, and its lines echoed in errors."""
    relative = _relative(t, key, value)
    return contained(root, root, relative.as_posix(), t.location(key), key)


def _shared_path(t: Table, root: Path, key: str, example: str) -> Path | None:
    """A path key that may leave the model folder: a file shared by many models."""
    value = t.get_str(key)
    if value is None:
        return None
    if not value.strip():
        raise InputError(t.location(key), "the path is empty", f'name the file: "{example}"')
    _no_nul(t, key, value)
    return (root / value).resolve()


def _absolute(t: Table, key: str, value: str) -> str:
    _no_nul(t, key, value)
    if not value.startswith("/") or ".." in PurePosixPath(value).parts:
        raise InputError(
            t.location(key), f"{value!r} must be an absolute path in the image", "start it with '/'"
        )
    return value


def _user(t: Table) -> str:
    user = t.get_str("user", DEFAULT_USER) or DEFAULT_USER
    if user in {"root", "0"} or user.startswith("0:"):
        raise InputError(
            t.location("user"),
            "the image must not run as root",
            f'remove `user` (default "{DEFAULT_USER}") or name a non-root user',
        )
    if not re.match(r"^[a-z_][a-z0-9_-]{0,31}$", user):
        raise InputError(
            t.location("user"),
            f"{user!r} is not a valid user name",
            "use lowercase letters, digits, '_' and '-'",
        )
    return user


def _ports(t: Table) -> tuple[int, ...]:
    ports = t.int_list("ports")
    for i, port in enumerate(ports):
        if not 1 <= port <= 65535:
            raise InputError(
                t.location(f"ports[{i}]"), f"port {port} is out of range", "use 1-65535"
            )
    return tuple(sorted(set(ports)))


def _app(t: Table) -> AppFiles:
    app = t.table("app")
    if app is None:
        return AppFiles(include=(), exclude=())
    files = AppFiles(include=app.str_list("include"), exclude=app.str_list("exclude"))
    for i, pattern in enumerate(files.include):
        _relative(app, f"include[{i}]", pattern)
    app.reject_unknown()
    return files


def _sha256(t: Table, key: str, required: bool) -> str | None:
    value = t.req_str(key) if required else t.get_str(key)
    if value is not None:
        value = value.removeprefix("sha256:")
        if not _SHA256.match(value):
            raise InputError(
                t.location(key),
                "not a sha256 hex digest",
                "use 64 lowercase hex digits (sha256sum FILE)",
            )
    return value


def _artifact(t: Table) -> Artifact:
    path = _relative(t, "path", t.req_str("path"))
    dest = _dest(t, t.get_str("dest", f"/opt/model/{path.name}") or "", path)
    card = t.str_map("card")
    artifact = Artifact(
        name=t.get_str("name", path.stem) or path.stem,
        path=path,
        sha256=_sha256(t, "sha256", required=True) or "",
        dest=PurePosixPath(dest),
        card=card,
        location=t.location(),
    )
    t.reject_unknown()
    return artifact


def _dest(t: Table, value: str, path: PurePosixPath) -> str:
    """An artifact's `dest`: the absolute path of a file in the image.

    `/`, a path ending in `/`, or one with empty, `.` or `..` parts does not name a file:
    the model would land nowhere (`dest = "/"` built an image without it).
    """
    _absolute(t, "dest", value)
    parts = value.split("/")[1:]
    if value.endswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InputError(
            t.location("dest"),
            f"{shown(value)} does not name a file in the image",
            f'name the file the model is copied to, e.g. "/opt/model/{shown(path.name)}"',
        )
    return value


def _artifacts(t: Table) -> tuple[Artifact, ...]:
    """The `[[artifacts]]`; two of them may not be copied to the same `dest`."""
    artifacts = tuple(_artifact(a) for a in t.tables("artifacts"))
    seen: dict[PurePosixPath, Artifact] = {}
    for artifact in artifacts:
        first = seen.setdefault(artifact.dest, artifact)
        if first is not artifact:
            raise InputError(
                artifact.location,
                f"dest {shown(artifact.dest)} is also the dest of {shown(first.name)}",
                "give each artifact its own dest",
            )
    return artifacts


def _dataref(t: Table) -> DataRef:
    ref = DataRef(
        name=t.req_str("name"),
        uri=t.req_str("uri"),
        version=t.get_str("version", "") or "",
        sha256=_sha256(t, "sha256", required=False),
        schema_hash=t.get_str("schema_hash"),
        revision=t.get_str("revision"),
    )
    t.reject_unknown()
    return ref


def _system(t: Table) -> tuple[SystemPackage, ...]:
    system = t.table("system")
    if system is None:
        return ()
    out = []
    for i, text in enumerate(system.str_list("packages")):
        m = _APT_PIN.match(text)
        if not m:
            raise InputError(
                system.location(f"packages[{i}]"),
                f"{text!r} is not pinned as name=version",
                "pin it: apt-cache policy NAME shows the version",
            )
        out.append(
            SystemPackage(
                name=m["name"], version=m["version"], location=system.location(f"packages[{i}]")
            )
        )
    system.reject_unknown()
    return tuple(out)


def _dependencies(t: Table) -> dict[str, frozenset[NormalizedName]]:
    deps = t.table("dependencies")
    if deps is None:
        return {"critical": frozenset(), "optional": frozenset()}
    critical = frozenset(canonicalize_name(n) for n in deps.str_list("critical"))
    optional = frozenset(canonicalize_name(n) for n in deps.str_list("optional"))
    both = sorted(critical & optional)
    if both:
        raise InputError(
            deps.location(),
            f"{', '.join(both)} marked both critical and optional",
            "list each package in one of the two",
        )
    deps.reject_unknown()
    return {"critical": critical, "optional": optional}
