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
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import NormalizedName

from imagekit import __version__
from imagekit.appfiles import select_for_spec
from imagekit.catalog import BaseImage, ImageSource
from imagekit.checks import CheckResult, sha256_file
from imagekit.cuda import CudaPlan, cuda_of_packages
from imagekit.errors import FindingsError, InputError
from imagekit.gpu.labels import cuda_labels, require_cuda
from imagekit.lockfile import LockedPackage
from imagekit.spec import DEFAULT_UID, DataRef, ModelSpec

PLAN_SCHEMA = 1
PLAN_PATH_IN_IMAGE = "/usr/share/imagekit/plan.json"  # every image carries its plan here
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Framework families: each gets a layer of its own, so bumping one does not re-ship another.
FRAMEWORKS: dict[str, frozenset[str]] = {
    "jax": frozenset(
        {
            "jax",
            "jaxlib",
            "jax-cuda12-plugin",
            "jax-cuda12-pjrt",
            "jax-cuda13-plugin",
            "jax-cuda13-pjrt",
        }
    ),
    "onnxruntime": frozenset({"onnxruntime", "onnxruntime-gpu"}),
    "tensorflow": frozenset(
        {
            "tensorflow",
            "tensorflow-cpu",
            "tensorflow-io-gcs-filesystem",
            "tensorboard",
            "tensorboard-data-server",
            "keras",
            "tf-keras",
        }
    ),
    "torch": frozenset({"torch", "torchvision", "torchaudio", "triton", "pytorch-triton"}),
}


# pip runs in the build stage only, from its wheel (fetched and verified like every other), so
# neither the base nor the final image needs pip, ensurepip or bundled wheels.
BUILD_PIP_VERSION = "25.1.1"
BUILD_PIP_SHA256 = (
    "2913a38a2abf4ea6b64ab507bd9e967f3b53dc1ede74b01b0931e1ce548751af",
    "3de45d411d308d5054c2168185d8da7f9a2cd753dbac8acbfa88a8909ecd9077",
)


class LayerKind(enum.StrEnum):
    SYSTEM = "system"
    CUDA = "cuda"
    FRAMEWORK = "framework"
    PYTHON = "python"
    ARTIFACTS = "artifacts"
    APP = "app"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedPackage:
    name: str
    version: str
    sha256: tuple[str, ...]
    filenames: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "sha256": list(self.sha256),
            "filenames": list(self.filenames),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlannedPackage:
        return cls(
            name=d["name"],
            version=d["version"],
            sha256=tuple(d["sha256"]),
            filenames=tuple(d["filenames"]),
        )


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
class Layer:
    kind: LayerKind
    name: str
    packages: tuple[PlannedPackage, ...] = ()
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
            packages=tuple(PlannedPackage.from_dict(p) for p in d["packages"]),
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
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BaseRef:
        return cls(**d)


def _ref_dict(ref: DataRef) -> dict[str, Any]:
    return {
        "name": ref.name,
        "uri": ref.uri,
        "version": ref.version,
        "sha256": ref.sha256,
        "schema_hash": ref.schema_hash,
        "revision": ref.revision,
    }


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
    datasets: tuple[dict[str, Any], ...]
    sources: tuple[dict[str, Any], ...]
    artifacts: tuple[dict[str, Any], ...]
    critical: tuple[str, ...]
    optional: tuple[str, ...]
    from_base: tuple[str, ...]  # locked packages the base already carries at the same version
    build_tools: tuple[PlannedPackage, ...] = ()  # used in the build stage, never shipped

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
            "datasets": list(self.datasets),
            "sources": list(self.sources),
            "artifacts": list(self.artifacts),
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
            datasets=tuple(d["datasets"]),
            sources=tuple(d["sources"]),
            artifacts=tuple(d["artifacts"]),
            critical=tuple(d["critical"]),
            optional=tuple(d["optional"]),
            from_base=tuple(d["from_base"]),
            build_tools=tuple(PlannedPackage.from_dict(t) for t in d["build_tools"]),
        )

    def with_base_digest(self, digest: str) -> BuildPlan:
        """The plan with its base resolved to an image id or registry digest."""
        labels = dict(self.labels)
        labels["org.opencontainers.image.base.digest"] = digest
        return replace(
            self, base=replace(self.base, digest=digest), labels=tuple(sorted(labels.items()))
        )


def _planned(pkg: LockedPackage) -> PlannedPackage:
    return PlannedPackage(
        name=pkg.name,
        version=str(pkg.version),
        sha256=tuple(sorted(pkg.hashes)),
        filenames=tuple(sorted(f.filename for f in pkg.wheels)),
    )


def group_of(name: NormalizedName) -> tuple[LayerKind, str]:
    """The layer a Python package belongs in."""
    if name.startswith("nvidia-"):
        return LayerKind.CUDA, "cuda"
    for family, members in FRAMEWORKS.items():
        if name in members:
            return LayerKind.FRAMEWORK, f"framework-{family}"
    return LayerKind.PYTHON, "python"


def _python_layers(packages: tuple[LockedPackage, ...]) -> list[Layer]:
    groups: dict[tuple[LayerKind, str], list[PlannedPackage]] = {}
    for pkg in sorted(packages, key=lambda p: p.name):
        groups.setdefault(group_of(pkg.name), []).append(_planned(pkg))
    order = list(LayerKind)
    keys = sorted(groups, key=lambda k: (order.index(k[0]), k[1]))
    return [Layer(kind=k[0], name=k[1], packages=tuple(groups[k])) for k in keys]


def _artifact_layer(spec: ModelSpec) -> Layer | None:
    if not spec.artifacts:
        return None
    files = tuple(
        PlannedFile(source=a.path.as_posix(), dest=a.dest.as_posix(), sha256=a.sha256)
        for a in sorted(spec.artifacts, key=lambda a: a.dest.as_posix())
    )
    return Layer(kind=LayerKind.ARTIFACTS, name="artifacts", files=files)


def _app_layer(spec: ModelSpec) -> Layer | None:
    chosen = select_for_spec(spec)
    files = tuple(
        PlannedFile(
            source=p.as_posix(),
            dest=(PurePosixPath(spec.workdir) / p).as_posix(),
            sha256=sha256_file(spec.root / p),
        )
        for p in chosen.files
    )
    return Layer(kind=LayerKind.APP, name="app", files=files) if files else None


def _cuda(base: BaseImage, packages: tuple[LockedPackage, ...]) -> CudaPlan | None:
    if base.cuda is not None:
        return CudaPlan(
            version=str(base.cuda.version),
            min_driver=base.cuda.min_driver,
            source=f"base {base.name}",
        )
    return cuda_of_packages(packages)


def _labels(
    spec: ModelSpec,
    base: BaseImage,
    lock_sha: str,
    cuda: CudaPlan | None,
    packages: tuple[LockedPackage, ...] = (),
) -> dict[str, str]:
    labels = {
        "org.opencontainers.image.title": spec.name,
        "org.opencontainers.image.version": spec.version,
        "org.opencontainers.image.base.name": base.local_tag,
        "io.imagekit.version": __version__,
        "io.imagekit.base.name": base.name,
        "io.imagekit.base.recipe-sha256": base.recipe_hash,
        "io.imagekit.lock.sha256": lock_sha,
        "io.imagekit.python": str(base.python.version),
    }
    if isinstance(base.source, ImageSource):
        labels["io.imagekit.base.source"] = base.source.reference
    if spec.description:
        labels["org.opencontainers.image.description"] = spec.description
    if cuda is not None:
        labels["io.imagekit.cuda.version"] = cuda.version
        labels["io.imagekit.cuda.min-driver"] = cuda.min_driver
        pinned = ((p.name, str(p.version)) for p in packages if p.version is not None)
        labels.update(cuda_labels(cuda.version, pinned))
    for artifact in spec.artifacts:
        labels[f"io.imagekit.artifact.{artifact.name}.sha256"] = artifact.sha256
    labels.update(spec.labels)  # the author's own labels win
    return dict(sorted(labels.items()))


def _env(spec: ModelSpec, base: BaseImage, cuda: CudaPlan | None) -> dict[str, str]:
    env = {
        "PATH": f"{base.python.venv}/bin:{DEFAULT_PATH}",
        "VIRTUAL_ENV": base.python.venv,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "HOME": f"/home/{spec.user}",
    }
    if cuda is not None:
        # Read by the NVIDIA container runtime: refuse hosts whose driver is too old, admitting
        # those minor version compatibility covers (as `imagekit compat` judges them).
        env["NVIDIA_REQUIRE_CUDA"] = require_cuda(cuda.version)
        env["NVIDIA_VISIBLE_DEVICES"] = "all"
        env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
    env.update(spec.env)
    return dict(sorted(env.items()))


def make_plan(result: CheckResult) -> BuildPlan:
    """The BuildPlan of a checked project; raises `FindingsError` if the checks failed."""
    if not result.ok or result.spec is None or result.lock is None or result.base is None:
        raise FindingsError(result.findings)
    spec, lock, base = result.spec, result.lock, result.base
    carried = base.package_map()
    from_base = tuple(sorted(p.name for p in result.packages if p.name in carried))
    to_install = tuple(p for p in result.packages if p.name not in carried)
    cuda = _cuda(base, result.packages)
    layers: list[Layer] = []
    if spec.system_packages:
        layers.append(
            Layer(
                kind=LayerKind.SYSTEM,
                name="system",
                system=tuple(sorted(f"{s.name}={s.version}" for s in spec.system_packages)),
            )
        )
    layers.extend(_python_layers(to_install))
    app = _app_layer(spec)
    layers.extend(layer for layer in (_artifact_layer(spec), app) if layer is not None)
    base_ref = BaseRef(
        name=base.name,
        reference=_base_reference(base),
        recipe_sha256=base.recipe_hash,
        digest=None,
        python=base.python.path,
        python_version=str(base.python.version),
        venv=base.python.venv,
        os=f"{base.os.distro} {base.os.release}",
        apt_source=base.apt_source,
    )
    return BuildPlan(
        name=spec.name,
        version=spec.version,
        description=spec.description,
        platform=spec.platform,
        base=base_ref,
        layers=tuple(layers),
        env=tuple(_env(spec, base, cuda).items()),
        user=spec.user,
        uid=DEFAULT_UID,
        workdir=spec.workdir,
        entrypoint=spec.entrypoint,
        cmd=spec.cmd,
        ports=spec.ports,
        labels=tuple(_labels(spec, base, lock.sha256, cuda, result.packages).items()),
        lock_file=spec.lockfile.name,
        lock_format=lock.format.value,
        lock_sha256=lock.sha256,
        cuda=cuda,
        datasets=tuple(_ref_dict(d) for d in spec.datasets),
        sources=tuple(_ref_dict(s) for s in spec.sources),
        artifacts=tuple(
            {
                "name": a.name,
                "path": a.path.as_posix(),
                "dest": a.dest.as_posix(),
                "sha256": a.sha256,
                "card": dict(sorted(a.card.items())),
            }
            for a in spec.artifacts
        ),
        critical=tuple(sorted(spec.critical)),
        optional=tuple(sorted(spec.optional)),
        from_base=from_base,
        build_tools=(
            PlannedPackage(
                name="pip",
                version=BUILD_PIP_VERSION,
                sha256=BUILD_PIP_SHA256,
                filenames=(f"pip-{BUILD_PIP_VERSION}-py3-none-any.whl",),
            ),
        ),
    )


def _base_reference(base: BaseImage) -> str:
    """How a Dockerfile names the base: its local tag (imagekit builds every base)."""
    return base.local_tag
