"""The base image catalog: one TOML file per base image the platform team maintains.

A base is built from a local recipe (mmdebstrap from Debian packages), pulled from a registry
by digest, or defined FROM another base plus Python packages (NVIDIA's CUDA wheels). Whatever
its source, the resolved `BaseImage` says which OS, Python, CUDA and Python packages an image
built on it starts with.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from imagekit.errors import ImagekitError, InputError, Location
from imagekit.limits import shown
from imagekit.project.lockfile.interface import PinnedPackage
from imagekit.resources import base_images_dir
from imagekit.tomlfile import Table, load_toml

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PLATFORMS = frozenset({"linux/amd64", "linux/arm64"})
_GLIBC = re.compile(r"^2\.([0-9]{1,3})$")


class CatalogError(ImagekitError):
    """A base name the catalog does not hold, or a catalog that cannot be resolved."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OsInfo:
    distro: str
    release: str
    codename: str
    glibc: tuple[int, int]  # the C library's version, which decides the manylinux wheels

    @property
    def glibc_text(self) -> str:
        """`2.35`."""
        return f"{self.glibc[0]}.{self.glibc[1]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonInfo:
    version: Version
    path: str
    venv: str

    @property
    def tag(self) -> str:
        """The CPython wheel tag of this interpreter: `cp311`."""
        return f"cp{self.version.major}{self.version.minor}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaInfo:
    version: Version
    cudnn: str
    min_driver: str
    minor_compat_driver: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeSource:
    """Built here from distribution packages with mmdebstrap."""

    recipe: str
    suite: str
    variant: str
    mirror: str
    components: tuple[str, ...]
    include: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageSource:
    """Pulled from a registry, pinned by digest."""

    image: str
    digest: str
    setup_packages: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        return f"{self.image}@{self.digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseImage:
    """A resolved catalog entry: its own fields merged over those of the base it is FROM."""

    name: str
    description: str
    file: Path
    platforms: tuple[str, ...]
    os: OsInfo
    python: PythonInfo
    source: RecipeSource | ImageSource | None
    parent: BaseImage | None = None
    cuda: CudaInfo | None = None
    python_packages: tuple[PinnedPackage, ...] = ()  # carried in its venv
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def recipe_hash(self) -> str:
        """sha256 over this definition and its parents': a changed recipe means a new base."""
        chain = []
        base: BaseImage | None = self
        while base is not None:
            chain.append(base.definition)
            base = base.parent
        blob = json.dumps(chain, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def local_tag(self) -> str:
        """The tag `imagekit base build` gives this base in a daemon."""
        return f"imagekit-base/{self.name}:{self.recipe_hash[:16]}"

    @property
    def own_packages(self) -> tuple[PinnedPackage, ...]:
        """The Python packages this base adds over its parent."""
        inherited = {p.name for p in self.parent.python_packages} if self.parent else set()
        return tuple(p for p in self.python_packages if p.name not in inherited)

    @property
    def apt_source(self) -> str | None:
        """ "MIRROR SUITE COMPONENT..." of the Debian archive a recipe base was built from."""
        root = self
        while root.parent is not None:
            root = root.parent
        if not isinstance(root.source, RecipeSource):
            return None
        return " ".join((root.source.mirror, root.source.suite, *root.source.components))

    def package_map(self) -> dict[NormalizedName, PinnedPackage]:
        return {p.name: p for p in self.python_packages}


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every base image in a catalog directory, by name."""

    directory: Path
    bases: dict[str, BaseImage]

    def get(self, name: str, where: Location | None = None) -> BaseImage:
        """The base named `name`; raises `InputError` (at `where`) or `CatalogError`."""
        if name in self.bases:
            return self.bases[name]
        known = ", ".join(sorted(self.bases)) or "none"
        message = f"base image {name!r} is not in the catalog ({self.directory})"
        fix = f"use one of: {known}"
        if where is not None:
            raise InputError(where, message, fix)
        raise CatalogError(f"{message}; {fix}")

    @classmethod
    def load(cls, directory: Path | None = None) -> Catalog:
        """Read every `*.toml` in `directory` (default: the catalog shipped with imagekit)."""
        directory = directory or base_images_dir()
        if not directory.is_dir():
            raise CatalogError(f"{directory}: base image catalog directory not found")
        raw: dict[str, tuple[Path, dict[str, Any]]] = {}
        for path in sorted(directory.glob("*.toml")):
            data = load_toml(path)
            table = Table(data, path)
            name = table.req_str("name")
            if not _NAME.match(name):
                raise InputError(
                    table.location("name"),
                    f"invalid base name {name!r}",
                    "use lowercase letters, digits, '.', '_' and '-'",
                )
            if name in raw:
                raise InputError(
                    table.location("name"),
                    f"base {name!r} is also defined in {raw[name][0]}",
                    "give each base a unique name",
                )
            raw[name] = (path, data)
        resolved: dict[str, BaseImage] = {}
        for name in raw:
            _resolve(name, raw, resolved, ())
        return cls(directory=directory, bases=dict(sorted(resolved.items())))


def _resolve(
    name: str,
    raw: dict[str, tuple[Path, dict[str, Any]]],
    resolved: dict[str, BaseImage],
    stack: tuple[str, ...],
) -> BaseImage:
    if name in resolved:
        return resolved[name]
    path, data = raw[name]
    if name in stack:
        cycle = " -> ".join((*stack, name))
        raise InputError(
            Location(file=path, key="from"),
            f"cycle in base definitions: {cycle}",
            "make one base the root (no `from`)",
        )
    table = Table(data, path)
    parent_name = table.get_str("from")
    parent = None
    if parent_name is not None:
        if parent_name not in raw:
            raise InputError(
                table.location("from"),
                f"parent base {parent_name!r} not found",
                f"use one of: {', '.join(sorted(raw))}",
            )
        parent = _resolve(parent_name, raw, resolved, (*stack, name))
    base = _parse_base(table, parent, data)
    resolved[name] = base
    return base


def _parse_base(table: Table, parent: BaseImage | None, data: dict[str, Any]) -> BaseImage:
    name = table.req_str("name")
    description = table.get_str("description", "") or ""
    platforms = table.str_list("platforms") or (parent.platforms if parent else ())
    for i, platform in enumerate(platforms):
        if platform not in _PLATFORMS:
            raise InputError(
                table.location(f"platforms[{i}]"),
                f"unknown platform {platform!r}",
                f"use one of: {', '.join(sorted(_PLATFORMS))}",
            )
    os_table = table.table("os")
    py_table = table.table("python")
    if parent is None and (os_table is None or py_table is None):
        missing = "os" if os_table is None else "python"
        raise InputError(
            table.location(missing),
            "required table is missing",
            f'add [{missing}] or `from = "<parent base>"`',
        )
    os_info = _parse_os(os_table) if os_table else parent.os  # type: ignore[union-attr]
    python = _parse_python(py_table) if py_table else parent.python  # type: ignore[union-attr]
    source = _parse_source(table)
    if source is None and parent is None:
        raise InputError(
            table.location("source"),
            "a root base needs a [source]",
            'add [source] with `recipe = "mmdebstrap"` or `image` and `digest`',
        )
    cuda_table = table.table("cuda")
    cuda = _parse_cuda(cuda_table) if cuda_table else (parent.cuda if parent else None)
    own = tuple(_parse_package(t) for t in table.tables("python_packages"))
    inherited = parent.python_packages if parent else ()
    _reject_overrides(table, inherited, own)
    table.reject_unknown()
    return BaseImage(
        name=name,
        description=description,
        file=table.file,
        platforms=platforms,
        os=os_info,
        python=python,
        source=source,
        parent=parent,
        cuda=cuda,
        python_packages=tuple(sorted((*inherited, *own), key=lambda p: p.name)),
        definition=_definition(data),
    )


def _definition(data: dict[str, Any]) -> dict[str, Any]:
    # The parsed TOML is the recipe; the file's comments and layout are not, nor is the glibc
    # the entry states: a fact about what the recipe builds, which builds the same image. The
    # TOML parsed once: the recipe hashed is the one checked, and no file is read twice.
    definition = dict(data)
    os_table = definition.get("os")
    if isinstance(os_table, dict):
        definition["os"] = {k: v for k, v in os_table.items() if k != "glibc"}
    return definition


def _reject_overrides(
    table: Table, inherited: tuple[PinnedPackage, ...], own: tuple[PinnedPackage, ...]
) -> None:
    names = {p.name for p in inherited}
    seen: set[str] = set()
    for i, pkg in enumerate(own):
        where = table.location(f"python_packages[{i}]")
        if pkg.name in names:
            raise InputError(
                where,
                f"{pkg.name} is already carried by the parent base",
                "remove it here or change the parent",
            )
        if pkg.name in seen:
            raise InputError(where, f"{pkg.name} is listed twice", "keep one entry")
        seen.add(pkg.name)


def _parse_os(table: Table) -> OsInfo:
    info = OsInfo(
        distro=table.req_str("distro"),
        release=table.req_str("release"),
        codename=table.req_str("codename"),
        glibc=_glibc(table),
    )
    table.reject_unknown()
    return info


def _glibc(table: Table) -> tuple[int, int]:
    """`[os] glibc = "2.35"`: required, as no default fits every distribution."""
    text = table.req_str("glibc")
    match = _GLIBC.match(text)
    if match is None:
        raise InputError(
            table.location("glibc"),
            f"not a glibc version: {shown(repr(text))}",
            'write the version of the distribution\'s libc6 as "2.<minor>", such as "2.36"',
        )
    return 2, int(match[1])


def _version(table: Table, key: str) -> Version:
    text = table.req_str(key)
    try:
        return Version(text)
    except InvalidVersion as e:
        raise InputError(
            table.location(key), f"invalid version {text!r}", "use a PEP 440 version such as 3.11.2"
        ) from e


def _parse_python(table: Table) -> PythonInfo:
    info = PythonInfo(
        version=_version(table, "version"),
        path=table.req_str("path"),
        venv=table.get_str("venv", "/opt/venv") or "/opt/venv",
    )
    table.reject_unknown()
    return info


def _parse_cuda(table: Table) -> CudaInfo:
    info = CudaInfo(
        version=_version(table, "version"),
        cudnn=table.get_str("cudnn", "") or "",
        min_driver=table.req_str("min_driver"),
        minor_compat_driver=table.get_str("minor_compat_driver", "") or "",
    )
    table.reject_unknown()
    return info


def _parse_source(table: Table) -> RecipeSource | ImageSource | None:
    src = table.table("source")
    if src is None:
        return None
    source: RecipeSource | ImageSource
    if "image" in src:
        digest = src.req_str("digest")
        if not _DIGEST.match(digest):
            raise InputError(
                src.location("digest"),
                f"not a sha256 digest: {digest!r}",
                "pin the image as sha256:<64 hex digits>",
            )
        source = ImageSource(
            image=src.req_str("image"), digest=digest, setup_packages=src.str_list("setup_packages")
        )
    else:
        recipe = src.req_str("recipe")
        if recipe != "mmdebstrap":
            raise InputError(
                src.location("recipe"),
                f"unknown recipe {recipe!r}",
                'use recipe = "mmdebstrap" or an `image` with a `digest`',
            )
        source = RecipeSource(
            recipe=recipe,
            suite=src.req_str("suite"),
            variant=src.get_str("variant", "minbase") or "",
            mirror=src.req_str("mirror"),
            components=src.str_list("components") or ("main",),
            include=src.str_list("include"),
        )
    src.reject_unknown()
    return source


def _parse_package(table: Table) -> PinnedPackage:
    hashes = table.str_list("sha256")
    for i, h in enumerate(hashes):
        if not _SHA256.match(h):
            raise InputError(
                table.location(f"sha256[{i}]"),
                "not a sha256 hex digest",
                "use 64 lowercase hex digits",
            )
    if not hashes:
        raise InputError(
            table.location("sha256"),
            "a base package needs its sha256 hashes",
            "list the wheel hashes (uv pip compile --generate-hashes prints them)",
        )
    pkg = PinnedPackage(
        name=canonicalize_name(table.req_str("name")),
        version=_version(table, "version"),
        sha256=hashes,
    )
    table.reject_unknown()
    return pkg
