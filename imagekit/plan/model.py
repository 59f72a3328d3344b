"""The BuildPlan: what an image will be, the one value every build backend consumes.

Layers are ordered from the least to the most often changed: system packages, CUDA libraries
(nvidia-* wheels), one layer per ML framework family, other Python packages, model artifacts,
application code. The plan is a frozen value with a stable JSON form.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from imagekit import __version__
from imagekit.errors import InputError
from imagekit.project.lockfile.interface import PinnedPackage
from imagekit.project.spec import DataRef

PLAN_SCHEMA = 1
PLAN_PATH_IN_IMAGE = "/usr/share/imagekit/plan.json"  # every image carries its plan here
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# pip runs in the build stage only, from its wheel (fetched and verified like every other), so
# neither the base nor the final image needs pip, ensurepip or bundled wheels.
BUILD_PIP = PinnedPackage(
    name=canonicalize_name("pip"),
    version=Version("25.1.1"),
    sha256=(
        "2913a38a2abf4ea6b64ab507bd9e967f3b53dc1ede74b01b0931e1ce548751af",
        "3de45d411d308d5054c2168185d8da7f9a2cd753dbac8acbfa88a8909ecd9077",
    ),
    filenames=("pip-25.1.1-py3-none-any.whl",),
)


class LayerKind(enum.StrEnum):
    SYSTEM = "system"
    CUDA = "cuda"
    FRAMEWORK = "framework"
    PYTHON = "python"
    ARTIFACTS = "artifacts"
    APP = "app"


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaPlan:
    """The CUDA runtime an image will carry and the driver it needs."""

    version: str
    min_driver: str
    source: str  # where the version was read: the base, or a package

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "min_driver": self.min_driver, "source": self.source}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CudaPlan:
        return cls(version=d["version"], min_driver=d["min_driver"], source=d["source"])


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedFile:
    source: str  # relative to the model folder
    dest: str  # absolute in the image
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "dest": self.dest, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlannedFile:
        return cls(source=d["source"], dest=d["dest"], sha256=d["sha256"])


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedArtifact:
    """A model artifact as the plan records it: where it comes from, where it goes, its hash
    and its model card."""

    name: str
    path: str  # relative to the model folder
    dest: str  # absolute in the image
    sha256: str
    card: tuple[tuple[str, str], ...] = ()  # sorted by key

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "dest": self.dest,
            "sha256": self.sha256,
            "card": dict(self.card),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlannedArtifact:
        return cls(
            name=d["name"],
            path=d["path"],
            dest=d["dest"],
            sha256=d["sha256"],
            card=tuple(sorted(d["card"].items())),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    kind: LayerKind
    name: str
    packages: tuple[PinnedPackage, ...] = ()
    files: tuple[PlannedFile, ...] = ()
    system: tuple[str, ...] = ()  # apt packages as name=version

    @property
    def package_names(self) -> tuple[str, ...]:
        """The names of a system layer's apt packages."""
        return tuple(item.partition("=")[0] for item in self.system)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "packages": [p.to_dict() for p in self.packages],
            "files": [f.to_dict() for f in self.files],
            "system": list(self.system),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layer:
        return cls(
            kind=LayerKind(d["kind"]),
            name=d["name"],
            packages=tuple(PinnedPackage.from_dict(p) for p in d["packages"]),
            files=tuple(PlannedFile.from_dict(f) for f in d["files"]),
            system=tuple(d["system"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseRef:
    name: str
    reference: str  # the local tag of a recipe base, or image@digest
    recipe_sha256: str
    digest: str | None  # the image id or registry digest once resolved
    python: str  # interpreter path
    python_version: str
    venv: str
    os: str
    glibc: str  # "2.35": the base's C library, which decides the manylinux wheels
    apt_source: str | None = None  # "MIRROR SUITE COMPONENT..." of a Debian recipe base

    def to_dict(self) -> dict[str, Any]:
        return {
            "apt_source": self.apt_source,
            "name": self.name,
            "reference": self.reference,
            "recipe_sha256": self.recipe_sha256,
            "digest": self.digest,
            "python": self.python,
            "python_version": self.python_version,
            "venv": self.venv,
            "os": self.os,
            "glibc": self.glibc,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BaseRef:
        return cls(**d)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildPlan:
    name: str
    version: str
    description: str
    platform: str
    base: BaseRef
    layers: tuple[Layer, ...]
    env: tuple[tuple[str, str], ...]
    user: str
    uid: int
    workdir: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    ports: tuple[int, ...]
    labels: tuple[tuple[str, str], ...]
    lock_file: str
    lock_format: str
    lock_sha256: str
    cuda: CudaPlan | None
    datasets: tuple[DataRef, ...]
    sources: tuple[DataRef, ...]
    artifacts: tuple[PlannedArtifact, ...]
    critical: tuple[str, ...]
    optional: tuple[str, ...]
    from_base: tuple[str, ...]  # locked packages the base already carries at the same version
    build_tools: tuple[PinnedPackage, ...] = ()  # used in the build stage, never shipped

    @property
    def image_ref(self) -> str:
        return f"{self.name}:{self.version}"

    def layer(self, kind: LayerKind) -> tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if layer.kind is kind)

    @property
    def pip(self) -> str:
        """The build stage's pip: run from its wheel with the image's own interpreter."""
        tool = next(t for t in self.build_tools if t.name == "pip")
        return f"{self.base.venv}/bin/python /tmp/tools/{tool.filenames[0]}/pip"

    @property
    def python_layers(self) -> tuple[Layer, ...]:
        kinds = {LayerKind.CUDA, LayerKind.FRAMEWORK, LayerKind.PYTHON}
        return tuple(layer for layer in self.layers if layer.kind in kinds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PLAN_SCHEMA,
            "imagekit": __version__,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "platform": self.platform,
            "base": self.base.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
            "env": dict(self.env),
            "user": self.user,
            "uid": self.uid,
            "workdir": self.workdir,
            "entrypoint": list(self.entrypoint),
            "cmd": list(self.cmd),
            "ports": list(self.ports),
            "labels": dict(self.labels),
            "lock": {
                "file": self.lock_file,
                "format": self.lock_format,
                "sha256": self.lock_sha256,
            },
            "cuda": self.cuda.to_dict() if self.cuda else None,
            "datasets": [x.to_dict() for x in self.datasets],
            "sources": [x.to_dict() for x in self.sources],
            "artifacts": [a.to_dict() for a in self.artifacts],
            "critical": list(self.critical),
            "optional": list(self.optional),
            "from_base": list(self.from_base),
            "build_tools": [t.to_dict() for t in self.build_tools],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BuildPlan:
        if d.get("schema") != PLAN_SCHEMA:
            raise InputError(
                Path("<plan>"),
                f"plan schema {d.get('schema')} is not supported",
                f"regenerate the plan with imagekit {__version__}",
            )
        lock = d["lock"]
        return cls(
            name=d["name"],
            version=d["version"],
            description=d["description"],
            platform=d["platform"],
            base=BaseRef.from_dict(d["base"]),
            layers=tuple(Layer.from_dict(x) for x in d["layers"]),
            env=tuple(sorted(d["env"].items())),
            user=d["user"],
            uid=d["uid"],
            workdir=d["workdir"],
            entrypoint=tuple(d["entrypoint"]),
            cmd=tuple(d["cmd"]),
            ports=tuple(d["ports"]),
            labels=tuple(sorted(d["labels"].items())),
            lock_file=lock["file"],
            lock_format=lock["format"],
            lock_sha256=lock["sha256"],
            cuda=CudaPlan.from_dict(d["cuda"]) if d["cuda"] else None,
            datasets=tuple(DataRef.from_dict(x) for x in d["datasets"]),
            sources=tuple(DataRef.from_dict(x) for x in d["sources"]),
            artifacts=tuple(PlannedArtifact.from_dict(a) for a in d["artifacts"]),
            critical=tuple(d["critical"]),
            optional=tuple(d["optional"]),
            from_base=tuple(d["from_base"]),
            build_tools=tuple(PinnedPackage.from_dict(t) for t in d["build_tools"]),
        )

    def with_base_digest(self, digest: str) -> BuildPlan:
        """The plan with its base resolved to an image id or registry digest."""
        labels = dict(self.labels)
        labels["org.opencontainers.image.base.digest"] = digest
        return replace(
            self, base=replace(self.base, digest=digest), labels=tuple(sorted(labels.items()))
        )
