"""The knowledge base as values: driver floors, compatibility modes, framework builds, GPUs.

`imagekit.gpu.kb` loads it from the packaged `cuda_kb.json`; `imagekit.gpu.kb_parse` builds it
from its hand-kept source, `cuda_kb.toml`. Everything here is looked up, never computed from
hopes: an unknown CUDA release, torch build or GPU is reported as unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from imagekit.gpu.versions import (
    Arch,
    ComputeCapability,
    CudaVersion,
    DriverVersion,
    format_arch_list,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    id: str
    title: str
    url: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "url": self.url}


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaRelease:
    """One row of NVIDIA's table: a toolkit release and the driver it ships with."""

    release: str  # "12.4.1": major.minor.update
    label: str  # "CUDA 12.4 Update 1", as the table writes it
    driver: DriverVersion

    @property
    def version(self) -> CudaVersion:
        major, minor, _ = self.release.split(".")
        return CudaVersion(major=int(major), minor=int(minor))

    @property
    def update(self) -> int:
        return int(self.release.split(".")[2])

    @property
    def is_ga(self) -> bool:
        """The first general-availability release of its minor (11.0's is 11.0.2)."""
        return self.label.endswith(" GA")

    def to_dict(self) -> dict[str, Any]:
        return {"release": self.release, "label": self.label, "driver": str(self.driver)}


@dataclass(frozen=True, slots=True, kw_only=True)
class MinorCompat:
    """The driver floor of a CUDA major's minor version compatibility."""

    major: int
    min_driver: DriverVersion
    below: int | None  # the driver branch where the next family begins
    source: str

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"major": self.major, "min_driver": str(self.min_driver)}
        if self.below is not None:
            d["below"] = self.below
        return d | {"source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardCompat:
    package: str  # "cuda-compat-{major}-{minor}"
    segments: tuple[str, ...]  # GPU segments it applies to
    limits: tuple[str, ...]
    source: str

    def package_for(self, cuda: CudaVersion) -> str:
        return self.package.format(major=cuda.major, minor=cuda.minor or 0)

    def limits_for(self, cuda: CudaVersion) -> tuple[str, ...]:
        return tuple(x.format(major=cuda.major, minor=cuda.minor or 0) for x in self.limits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "segments": list(self.segments),
            "limits": list(self.limits),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaMinCc:
    major: int
    min_cc: ComputeCapability
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"major": self.major, "min_cc": str(self.min_cc), "source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaWheel:
    """How an nvidia-<component>[-cuNN] wheel's version maps to a CUDA version."""

    component: str  # "cuda-runtime"
    library: str  # "cudart": the library it installs, to find duplicates across kinds
    versioned: str  # "toolkit": version is the toolkit's; "own": only -cuNN tells the major
    toolkit_majors: tuple[int, ...]
    source: str

    def cuda_of(self, major: int, version: Version) -> CudaVersion:
        """The CUDA version of this wheel at `version` with suffix major `major`."""
        if self.versioned == "toolkit" and major in self.toolkit_majors:
            return CudaVersion(major=major, minor=version.minor)
        return CudaVersion(major=major)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "component": self.component,
            "library": self.library,
            "versioned": self.versioned,
        }
        if self.toolkit_majors:
            d["toolkit_majors"] = list(self.toolkit_majors)
        return d | {"source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolkitWheel:
    """One release of the `cuda-toolkit` metapackage: its version is the toolkit release
    (13.0.3 is CUDA 13.0 Update 3), and its METADATA pins the component wheels of that release."""

    toolkit: str  # the wheel's version, as PyPI spells it: "13.0.3.0"
    pins: tuple[str, ...]  # its exact Requires-Dist pins: "nvidia-cufft==12.0.0.61.*"
    source: str

    @property
    def version(self) -> Version:
        return Version(self.toolkit)

    @property
    def cuda(self) -> CudaVersion:
        return CudaVersion(major=self.version.major, minor=self.version.minor)

    def pinned(self, wheel: str) -> Requirement | None:
        """The pin of a component wheel (canonical name) in this release, if it has one."""
        return next((r for r in map(_requirement, self.pins) if r.name == wheel), None)

    def to_dict(self) -> dict[str, Any]:
        return {"toolkit": self.toolkit, "pins": list(self.pins), "source": self.source}


@cache
def _requirement(text: str) -> Requirement:
    """A pin parsed once (the knowledge base's pins are validated when it is loaded), its
    name canonical."""
    req = Requirement(text)
    req.name = canonicalize_name(req.name)
    return req


DESIGNATIONS = ("long-term-support", "production", "new-feature", "evaluation")


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverBranch:
    """A data-centre driver branch and NVIDIA's designation of it."""

    branch: int  # 580
    designation: str  # one of DESIGNATIONS
    source: str

    @property
    def forward_compatible(self) -> bool:
        """Forward compatibility (cuda-compat) is supported from LTS and production branches."""
        return self.designation in ("long-term-support", "production")

    def to_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "designation": self.designation, "source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class TorchRelease:
    torch: str  # "2.5"
    cudnn_major: int
    pypi: str  # the CUDA build tag PyPI hosts: "cu124"
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "torch": self.torch,
            "cudnn_major": self.cudnn_major,
            "pypi": self.pypi,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TorchBuild:
    torch: str  # "2.5"
    cuda: str  # "cu124"
    archs: tuple[Arch, ...]
    source: str

    @property
    def cuda_version(self) -> CudaVersion:
        return CudaVersion.from_tag(self.cuda)

    def to_dict(self) -> dict[str, Any]:
        return {
            "torch": self.torch,
            "cuda": self.cuda,
            "arch_list": format_arch_list(self.archs),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Gpu:
    name: str
    aliases: tuple[str, ...]
    cc: ComputeCapability
    segment: str  # "datacenter" | "workstation" | "consumer"
    source: str

    @property
    def datacenter(self) -> bool:
        return self.segment == "datacenter"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "cc": str(self.cc),
            "segment": self.segment,
            "source": self.source,
        }


def _exact(toolkit: ToolkitWheel, wheel: str) -> Version | None:
    """The version a toolkit release pins a component to with `==` (a `.*` pin names its
    prefix, which is the component's full version in NVIDIA's pins)."""
    pin = toolkit.pinned(wheel)
    specs = [s for s in pin.specifier if s.operator == "=="] if pin else []
    if not specs:
        return None
    try:
        return Version(specs[0].version.removesuffix(".*"))
    except InvalidVersion:
        return None


def _pins(toolkit: ToolkitWheel, wheel: str, version: Version) -> bool:
    pin = toolkit.pinned(wheel)
    if pin is None or _exact(toolkit, wheel) is None:
        return False
    return pin.specifier.contains(version, prereleases=True)


def words(text: str) -> tuple[str, ...]:
    """A device name as upper-case words: "NVIDIA A100-SXM4-40GB" -> (NVIDIA, A100, SXM4, 40GB)."""
    return tuple(w for w in re.split(r"[\s\-_/()]+", text.upper()) if w)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeBase:
    schema: int
    sources: tuple[Source, ...]
    cuda_releases_source: str
    arch_rules_source: str
    torch_pypi_source: str
    cuda_releases: tuple[CudaRelease, ...]
    minor_compat: tuple[MinorCompat, ...]
    minor_compat_limits: tuple[str, ...]
    minor_compat_limits_source: str
    forward_compat: ForwardCompat
    cuda_min_cc: tuple[CudaMinCc, ...]
    cuda_wheels: tuple[CudaWheel, ...]
    toolkit_wheels: tuple[ToolkitWheel, ...]
    driver_branches: tuple[DriverBranch, ...]
    torch_releases: tuple[TorchRelease, ...]
    torch_builds: tuple[TorchBuild, ...]
    gpus: tuple[Gpu, ...]

    def ga(self, cuda: CudaVersion) -> CudaRelease | None:
        """The GA row of a CUDA major.minor: its driver is the floor of the whole minor."""
        return next((r for r in self.cuda_releases if r.version == cuda and r.is_ga), None)

    def floor_at_most(self, cuda: CudaVersion) -> CudaRelease | None:
        """The GA row of `cuda`, or of the newest known minor below it (a lower bound)."""
        known = [r for r in self.cuda_releases if r.version.sort_key <= cuda.sort_key]
        if not known:
            return None
        newest = max(known, key=lambda r: r.version.sort_key).version
        return self.ga(newest)

    def release(self, release: str) -> CudaRelease | None:
        return next((r for r in self.cuda_releases if r.release == release), None)

    @property
    def newest(self) -> CudaVersion:
        return max((r.version for r in self.cuda_releases), key=lambda v: v.sort_key)

    def minor_compat_for(self, major: int) -> MinorCompat | None:
        return next((m for m in self.minor_compat if m.major == major), None)

    def min_cc(self, major: int) -> ComputeCapability | None:
        return next((m.min_cc for m in self.cuda_min_cc if m.major == major), None)

    def wheel(self, component: str) -> CudaWheel | None:
        return next((w for w in self.cuda_wheels if w.component == component), None)

    def toolkit_wheel(self, version: Version) -> ToolkitWheel | None:
        """The cuda-toolkit release of that version (13.0.3 and 13.0.3.0 are one)."""
        return next((t for t in self.toolkit_wheels if t.version == version), None)

    def component_cuda(self, wheel: str, version: Version) -> CudaVersion | None:
        """The CUDA release a component wheel belongs to, from the cuda-toolkit pins: the
        oldest release pinning exactly `version`; else the CUDA major of the releases pinning
        the same component major (nvidia-cufft 12.x is CUDA 13); None when no release pins it."""
        exact = [t for t in self.toolkit_wheels if _pins(t, wheel, version)]
        if exact:
            return min(exact, key=lambda t: t.version).cuda
        majors = {
            t.cuda.major
            for t in self.toolkit_wheels
            if (pin := _exact(t, wheel)) is not None and pin.major == version.major
        }
        return CudaVersion(major=majors.pop()) if len(majors) == 1 else None

    def driver_branch(self, branch: int) -> DriverBranch | None:
        return next((b for b in self.driver_branches if b.branch == branch), None)

    def torch_release(self, version: Version) -> TorchRelease | None:
        key = f"{version.major}.{version.minor}"
        return next((t for t in self.torch_releases if t.torch == key), None)

    def torch_build(self, version: Version, tag: str) -> TorchBuild | None:
        key = f"{version.major}.{version.minor}"
        return next((b for b in self.torch_builds if b.torch == key and b.cuda == tag), None)

    def gpu(self, name: str) -> Gpu | None:
        """The GPU a name means: a table name, an alias, or an NVML device name containing one.

        The longest matching alias wins ("GTX 1080 Ti" over "GTX 1080").
        """
        given = words(name)
        best: tuple[int, Gpu] | None = None
        for gpu in self.gpus:
            for alias in (gpu.name, *gpu.aliases):
                w = words(alias)
                if _contains(given, w) and (best is None or len(w) > best[0]):
                    best = (len(w), gpu)
        return best[1] if best else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "sources": [s.to_dict() for s in self.sources],
            "cuda_releases_source": self.cuda_releases_source,
            "arch_rules_source": self.arch_rules_source,
            "torch_pypi_source": self.torch_pypi_source,
            "cuda_releases": [r.to_dict() for r in self.cuda_releases],
            "minor_compat": [m.to_dict() for m in self.minor_compat],
            "minor_compat_limits": {
                "source": self.minor_compat_limits_source,
                "limits": list(self.minor_compat_limits),
            },
            "forward_compat": self.forward_compat.to_dict(),
            "cuda_min_cc": [m.to_dict() for m in self.cuda_min_cc],
            "cuda_wheels": [w.to_dict() for w in self.cuda_wheels],
            "toolkit_wheels": [t.to_dict() for t in self.toolkit_wheels],
            "driver_branches": [b.to_dict() for b in self.driver_branches],
            "torch_releases": [t.to_dict() for t in self.torch_releases],
            "torch_builds": [b.to_dict() for b in self.torch_builds],
            "gpus": [g.to_dict() for g in self.gpus],
        }
