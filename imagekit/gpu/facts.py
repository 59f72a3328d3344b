"""The CUDA an image carries, as compatibility sees it: runtimes (a toolkit, nvidia-* wheels,
the cuda-toolkit metapackage, shared libraries) and framework builds (torch 2.5.1 built for CUDA
12.4, and the compute capabilities it has kernels for; TensorFlow and JAX CUDA plugins).

Read from an Inventory (the image's own files), or from a plan and its lock's packages before
the image exists; both give the same `CudaFacts`, so one evaluation serves both.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from imagekit.gpu.kb_model import CudaWheel, KnowledgeBase
from imagekit.gpu.versions import Arch, CudaVersion, VersionError, format_arch_list

if TYPE_CHECKING:  # only types: the plan imports this module, and the inventory reads plans
    from imagekit.inventory.model import CudaComponent, Inventory, PythonDist

_WHEEL = re.compile(r"^nvidia-(?P<component>[a-z0-9-]+?)(?:-cu(?P<major>\d{2}))?$")
_CU_TAG = re.compile(r"^cu\d{3}$")
_LIBRARY = re.compile(r"^(?:lib)?(?P<name>[a-z_]+?)(?:\.so.*)?$")
_JAX_PLUGIN = re.compile(r"^jax-cuda(?P<major>\d+)-(?:plugin|pjrt)$")
TOOLKIT_METAPACKAGE = "cuda-toolkit"
# The libraries whose CUDA version is the image's: the runtime (libcudart) and the cuda-toolkit
# metapackage that installs it. Every other library is a fact with its own version.
RUNTIME_LIBRARIES = ("cudart", TOOLKIT_METAPACKAGE)


class RuntimeKind(enum.StrEnum):
    """Where a CUDA runtime was found; the values of the Inventory's RuntimeKind."""

    WHEEL = "wheel"
    TOOLKIT = "toolkit"
    LIBRARY = "library"
    FRAMEWORK = "framework"


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaRuntime:
    """A piece of the CUDA runtime in the image: a toolkit, an nvidia-* wheel, a library."""

    kind: RuntimeKind
    name: str  # "nvidia-cuda-runtime-cu12", "cudart", "base debian-bookworm-py311-cuda12.4"
    version: str
    library: str  # "cudart", "cudnn", "cublas" ...: one name per library across kinds
    cuda: CudaVersion
    where: str  # a path in the image, or the lock entry / base it comes from

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()

    @property
    def decides(self) -> bool:
        """Whether this piece is the CUDA runtime, whose version is the image's CUDA version."""
        return self.library in RUNTIME_LIBRARIES

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "version": self.version,
            "library": self.library,
            "cuda": str(self.cuda),
            "where": self.where,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameworkBuild:
    """A framework built for a CUDA version, and what the knowledge base knows of that build."""

    name: str
    version: str
    cuda: CudaVersion | None  # None: the build is not known
    how: str  # how the CUDA build was told: "+cu124", "Requires-Dist ...", "PyPI's build"
    archs: tuple[Arch, ...] | None  # None: not in the knowledge base
    cudnn_major: int | None
    where: str

    @property
    def label(self) -> str:
        if self.cuda is None or "+" in self.version:
            return f"{self.name} {self.version}"
        if self.cuda.minor is None:  # a JAX plugin names only its CUDA major
            return f"{self.name} {self.version} (CUDA {self.cuda.major} build)"
        return f"{self.name} {self.version} ({self.cuda.tag} build)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "cuda": str(self.cuda) if self.cuda else None,
            "how": self.how,
            "arch_list": format_arch_list(self.archs) if self.archs else None,
            "cudnn_major": self.cudnn_major,
            "where": self.where,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaFacts:
    origin: str  # the image reference, or the lock file
    runtimes: tuple[CudaRuntime, ...]
    frameworks: tuple[FrameworkBuild, ...]


def _wheel_cuda(
    wheel: CudaWheel, name: str, suffix: str | None, v: Version, kb: KnowledgeBase
) -> CudaVersion | None:
    """The CUDA release of a component wheel. -cuNN names the major; CUDA 13 wheels drop the
    suffix, and then only toolkit-versioned components say their CUDA in their version
    (nvidia-cuda-runtime 13.0.96); the others (nvidia-cufft 12.0.0.61) are looked up in the
    cuda-toolkit releases that pin them."""
    if suffix is not None:
        return wheel.cuda_of(int(suffix), v)
    if wheel.versioned == "toolkit" and v.major in wheel.toolkit_majors:
        return CudaVersion(major=v.major, minor=v.minor)
    return kb.component_cuda(name, v)


def wheel_runtime(name: str, version: str, where: str, kb: KnowledgeBase) -> CudaRuntime | None:
    """The CUDA piece an nvidia-* wheel or the cuda-toolkit metapackage is; None for any other
    package, and for a component wheel whose CUDA release nothing tells."""
    canonical = canonicalize_name(name)
    m = _WHEEL.match(canonical)
    wheel = kb.wheel(m["component"]) if m else None
    if (m is None or wheel is None) and canonical != TOOLKIT_METAPACKAGE:
        return None
    try:
        v = Version(version)
    except InvalidVersion:
        return None
    if m is None or wheel is None:  # cuda-toolkit 13.0.3 is CUDA 13.0 (Update 3)
        library, cuda = TOOLKIT_METAPACKAGE, CudaVersion(major=v.major, minor=v.minor)
    else:
        library = wheel.library
        found = _wheel_cuda(wheel, canonical, m["major"], v, kb)
        if found is None:
            return None
        cuda = found
    return CudaRuntime(
        kind=RuntimeKind.WHEEL,
        name=canonical,
        version=version,
        library=library,
        cuda=cuda,
        where=where,
    )


def _required_runtime(
    requires: Iterable[str], kb: KnowledgeBase, operators: tuple[str, ...]
) -> tuple[CudaRuntime, str] | None:
    """The CUDA runtime a framework's Requires-Dist asks for, and the requirement that says so:
    the first runtime requirement (nvidia-cuda-runtime-cuNN, or cuda-toolkit[cudart,...] from
    torch 2.11 on) whose version is given with one of `operators`."""
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        pins = [s.version for s in req.specifier if s.operator in operators]
        runtime = wheel_runtime(req.name, pins[0], "", kb) if pins else None
        if runtime is not None and runtime.decides:
            return runtime, f"{runtime.name}{req.specifier}"
    return None


def _pinned_runtime(requires: Iterable[str], kb: KnowledgeBase) -> CudaRuntime | None:
    """The CUDA runtime pin in a framework's Requires-Dist (what PyPI's build needs):
    nvidia-cuda-runtime-cu12==12.8.90, or cuda-toolkit[cudart,...]==13.0.3."""
    found = _required_runtime(requires, kb, ("==",))
    return found[0] if found else None


def torch_build(
    version: str, where: str, kb: KnowledgeBase, requires: Iterable[str] = ()
) -> FrameworkBuild | None:
    """What a torch version is built for: its +cuXXX tag, its Requires-Dist, or PyPI's build.

    None for a CPU build (+cpu, +rocm...).
    """
    try:
        v = Version(version)
    except InvalidVersion:
        return None
    release = kb.torch_release(v)
    pinned = _pinned_runtime(requires, kb)
    tag: str | None
    if v.local:
        if not _CU_TAG.match(v.local):
            return None
        tag, how = v.local, f"{v.local} from its local version +{v.local}"
    elif pinned is not None:
        tag = pinned.cuda.tag
        how = f"{tag} from its Requires-Dist {pinned.name}=={pinned.version}"
    elif release is not None:
        tag, how = release.pypi, f"{release.pypi}, the build PyPI hosts for torch {release.torch}"
    else:
        tag, how = None, "a torch release the knowledge base does not know"
    build = kb.torch_build(v, tag) if tag else None
    return FrameworkBuild(
        name="torch",
        version=version,
        cuda=CudaVersion.from_tag(tag) if tag else None,
        how=how,
        archs=build.archs if build else None,
        cudnn_major=release.cudnn_major if release else None,
        where=where,
    )


def tensorflow_build(
    version: str, where: str, requires: Iterable[str], kb: KnowledgeBase
) -> FrameworkBuild | None:
    """TensorFlow's CUDA build: the runtime its `and-cuda` extra requires at least (TensorFlow
    2.21 asks for nvidia-cuda-runtime-cu12>=12.5.82,<13.0, its CUDA 12.5 build); None without.

    The knowledge base has no TensorFlow kernel table: its architectures stay unknown."""
    found = _required_runtime(requires, kb, ("==", ">="))
    if found is None:
        return None
    runtime, requirement = found
    return FrameworkBuild(
        name="tensorflow",
        version=version,
        cuda=runtime.cuda,
        how=f"CUDA {runtime.cuda} from its Requires-Dist {requirement}; the knowledge base has "
        "no TensorFlow kernel table",
        archs=None,
        cudnn_major=None,
        where=where,
    )


def jax_plugin_build(name: str, version: str, where: str) -> FrameworkBuild | None:
    """A JAX CUDA plugin (jax-cuda12-plugin): its name tells the CUDA major, nothing more."""
    m = _JAX_PLUGIN.match(canonicalize_name(name))
    if m is None:
        return None
    return FrameworkBuild(
        name=canonicalize_name(name),
        version=version,
        cuda=CudaVersion(major=int(m["major"])),
        how=f"CUDA {m['major']} from its name; the knowledge base has no JAX kernel table",
        archs=None,
        cudnn_major=None,
        where=where,
    )


def facts_of_packages(
    packages: Iterable[tuple[str, str, str]], origin: str, kb: KnowledgeBase
) -> CudaFacts:
    """The CUDA of (name, version, where) packages: nvidia-* wheels, the cuda-toolkit
    metapackage, torch and JAX CUDA plugins."""
    runtimes: list[CudaRuntime] = []
    frameworks: list[FrameworkBuild] = []
    for name, version, where in packages:
        runtime = wheel_runtime(name, version, where, kb)
        if runtime is not None:
            runtimes.append(runtime)
        elif canonicalize_name(name) == "torch":
            build = torch_build(version, where, kb)
            frameworks.extend([build] if build else [])
        elif (jax := jax_plugin_build(name, version, where)) is not None:
            frameworks.append(jax)
    return CudaFacts(origin=origin, runtimes=tuple(runtimes), frameworks=tuple(frameworks))


def _library(component: CudaComponent, kb: KnowledgeBase) -> str:
    if component.kind.value == RuntimeKind.TOOLKIT:
        return "cudart"
    m = _WHEEL.match(canonicalize_name(component.name))
    wheel = kb.wheel(m["component"]) if m else None
    if wheel is not None:
        return wheel.library
    lib = _LIBRARY.match(component.name.lower())
    return lib["name"] if lib else component.name


def _component_runtime(c: CudaComponent, kb: KnowledgeBase) -> CudaRuntime | None:
    if c.kind.value == RuntimeKind.WHEEL:  # the knowledge base knows how wheels map to CUDA
        known = wheel_runtime(c.name, c.version, c.path, kb)
        if known is not None:
            return known
    try:
        cuda = CudaVersion.parse(c.cuda_version)
    except VersionError:
        return None
    return CudaRuntime(
        kind=RuntimeKind(c.kind.value),
        name=c.name,
        version=c.version,
        library=_library(c, kb),
        cuda=cuda,
        where=c.path,
    )


def _component_framework(c: CudaComponent, kb: KnowledgeBase) -> FrameworkBuild:
    build = torch_build(c.version, c.path, kb) if c.name == "torch" else None
    build = build or jax_plugin_build(c.name, c.version, c.path)
    if build is not None:
        return build
    try:
        cuda: CudaVersion | None = CudaVersion.parse(c.cuda_version)
    except VersionError:
        cuda = None
    return FrameworkBuild(
        name=c.name,
        version=c.version,
        cuda=cuda,
        how="the image's CUDA inventory",
        archs=None,
        cudnn_major=None,
        where=c.path,
    )


def _dist_frameworks(dists: Iterable[PythonDist], kb: KnowledgeBase) -> list[FrameworkBuild]:
    out = []
    for dist in dists:
        build = None
        if dist.name == "torch":
            build = torch_build(dist.version, dist.metadata_path, kb, dist.requires_dist)
        elif dist.name == "tensorflow":
            build = tensorflow_build(dist.version, dist.metadata_path, dist.requires_dist, kb)
        else:
            build = jax_plugin_build(dist.name, dist.version, dist.metadata_path)
        out.extend([build] if build else [])
    return out


def facts_of_inventory(inventory: Inventory, kb: KnowledgeBase) -> CudaFacts:
    """The CUDA of an image's inventory: its CUDA components, and its torch distributions
    (their Requires-Dist tells which build PyPI's torch is)."""
    runtimes = [
        r
        for c in inventory.cuda
        if c.kind.value != RuntimeKind.FRAMEWORK
        for r in [_component_runtime(c, kb)]
        if r is not None
    ]
    wheels = {r.name for r in runtimes if r.kind is RuntimeKind.WHEEL}
    for dist in inventory.python:  # wheels the CUDA reader did not list
        runtime = wheel_runtime(dist.name, dist.version, dist.metadata_path, kb)
        if runtime is not None and runtime.name not in wheels:
            runtimes.append(runtime)
    frameworks = _dist_frameworks(inventory.python, kb)
    named = {f.name for f in frameworks}
    frameworks += [
        _component_framework(c, kb)
        for c in inventory.cuda
        if c.kind.value == RuntimeKind.FRAMEWORK and c.name not in named
    ]
    return CudaFacts(
        origin=inventory.image.reference, runtimes=tuple(runtimes), frameworks=tuple(frameworks)
    )
