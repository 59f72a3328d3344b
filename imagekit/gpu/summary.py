"""What an image's CUDA needs, whatever it will run on: the CUDA version, the minimum driver
(full, and with minor version compatibility), the framework's architectures, and the findings
about runtimes that do not belong together (two CUDA majors, duplicate runtimes, a framework
built for a newer CUDA than the libraries beside it, cuDNN majors that differ).

One rule sets the image's CUDA version: the runtime decides (libcudart, from a toolkit, a wheel
or the cuda-toolkit metapackage). The other components are facts with their own versions: a
newer one of the same major (nvidia-nvjitlink 13.5 beside cudart 13.0) runs through minor version
compatibility and is reported as a limit, never raising the floor. Only when the image has no
runtime does a framework build, and then any component, tell the CUDA version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.errors import ErrorCollector, Finding, Location
from imagekit.gpu.facts import CudaFacts, CudaRuntime, FrameworkBuild
from imagekit.gpu.kb_model import KnowledgeBase
from imagekit.gpu.versions import Arch, CudaVersion, DriverVersion, format_arch_list


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaSummary:
    origin: str
    runtimes: tuple[CudaRuntime, ...]
    frameworks: tuple[FrameworkBuild, ...]
    cuda: CudaVersion | None  # the runtime's CUDA (see the module's rule); None: no CUDA at all
    min_driver: DriverVersion | None  # without any compatibility mode; None: not known
    min_driver_release: str | None  # the table row it comes from: "CUDA 12.4 GA"
    minor_compat_driver: DriverVersion | None  # with minor version compatibility
    notes: tuple[str, ...]  # what the knowledge base does not know
    findings: tuple[Finding, ...]

    @property
    def archs(self) -> tuple[Arch, ...] | None:
        """The architectures the (first known) framework build carries kernels for."""
        return next((f.archs for f in self.frameworks if f.archs), None)

    def to_dict(self) -> dict[str, Any]:
        archs = self.archs
        return {
            "cuda": str(self.cuda) if self.cuda else None,
            "min_driver": str(self.min_driver) if self.min_driver else None,
            "min_driver_release": self.min_driver_release,
            "minor_compat_driver": str(self.minor_compat_driver)
            if self.minor_compat_driver
            else None,
            "compute_capabilities": format_arch_list(archs) if archs else None,
            "runtimes": [r.to_dict() for r in self.runtimes],
            "frameworks": [f.to_dict() for f in self.frameworks],
            "notes": list(self.notes),
            "findings": [f.to_dict() for f in self.findings],
        }


def _versions(facts: CudaFacts) -> list[tuple[CudaVersion, str]]:
    found = [(r.cuda, r.label) for r in facts.runtimes]
    found += [(f.cuda, f.label) for f in facts.frameworks if f.cuda is not None]
    return found


def _newest(found: Iterable[tuple[CudaVersion, str]]) -> CudaVersion | None:
    versions = [v for v, _ in found]
    if not versions:
        return None
    return max(versions, key=lambda v: v.sort_key)


def image_cuda(facts: CudaFacts) -> CudaVersion | None:
    """The image's CUDA version: its newest runtime (one whose minor is known, if any); without
    a runtime, its newest framework build; without either, its newest component."""
    runtimes = [r.cuda for r in facts.runtimes if r.decides]
    if runtimes:
        exact = [v for v in runtimes if v.minor is not None]
        return _newest((v, "") for v in exact or runtimes)
    builds = [(f.cuda, f.label) for f in facts.frameworks if f.cuda is not None]
    return _newest(builds) if builds else _newest(_versions(facts))


def _where(facts: CudaFacts, key: str) -> Location:
    return Location(file=Path(facts.origin), key=key or None)


def _check_majors(facts: CudaFacts, c: ErrorCollector) -> None:
    """Two majors only when two runtimes of different majors are present; a component of
    another major than the runtime is a warning of its own."""
    majors: dict[int, list[str]] = {}
    for r in facts.runtimes:
        if r.decides:
            majors.setdefault(r.cuda.major, []).append(r.label)
    if len(majors) == 1:
        _check_component_majors(facts, next(iter(majors)), c)
    if len(majors) > 1:
        parts = "; ".join(
            f"CUDA {m}: {', '.join(sorted(set(v)))}" for m, v in sorted(majors.items())
        )
        c.error(
            _where(facts, ""),
            "cuda-majors",
            f"two CUDA majors in one image ({parts})",
            "lock one CUDA major: the framework build and the nvidia-*-cuNN wheels must agree",
        )


def _check_component_majors(facts: CudaFacts, major: int, c: ErrorCollector) -> None:
    for r in facts.runtimes:
        if not r.decides and r.cuda.major != major:
            c.warn(
                _where(facts, r.where),
                "cuda-component-major",
                f"{r.label} is a CUDA {r.cuda.major} library beside the CUDA {major} runtime: "
                "it will not load against it",
                f"lock the CUDA {major} build of {r.library} (or drop it if nothing uses it)",
            )


def _newer_components(facts: CudaFacts, cuda: CudaVersion, kb: KnowledgeBase) -> list[str]:
    """Limits for components of the runtime's major from a newer minor: minor version
    compatibility runs them on the runtime's driver, without what the newer minor added."""
    notes = []
    for r in facts.runtimes:
        if r.decides or r.cuda.major != cuda.major or r.cuda.minor is None:
            continue
        if cuda.minor is not None and r.cuda.minor > cuda.minor:
            own = kb.ga(r.cuda) or kb.floor_at_most(r.cuda)
            full = ""
            if own is not None:
                least = "" if own.version == r.cuda else "at least "
                full = f"; CUDA {r.cuda} itself needs {least}{own.driver}"
            notes.append(
                f"{r.label} is from CUDA {r.cuda}, newer than the CUDA {cuda} runtime: minor "
                f"version compatibility runs it without the features CUDA {r.cuda} added, "
                f"and the floor stays the runtime's{full}"
            )
    return notes


def _check_duplicates(facts: CudaFacts, c: ErrorCollector) -> None:
    by_library: dict[str, list[CudaRuntime]] = {}
    for r in facts.runtimes:
        if r.cuda.minor is not None:
            by_library.setdefault(r.library, []).append(r)
    for library, runtimes in sorted(by_library.items()):
        if len({r.cuda for r in runtimes}) > 1:
            listed = ", ".join(f"{r.label} (CUDA {r.cuda}, {r.where})" for r in runtimes)
            c.warn(
                _where(facts, runtimes[-1].where),
                "cuda-duplicate",
                f"{library} of two CUDA versions: {listed}",
                "keep one: whichever the loader finds first is used, the other is dead weight",
            )


def _check_framework_major(facts: CudaFacts, c: ErrorCollector) -> None:
    runtimes = [r for r in facts.runtimes if r.decides]
    for fw in facts.frameworks:
        if fw.cuda is None or not runtimes:
            continue
        if not any(r.cuda.major == fw.cuda.major for r in runtimes):
            listed = ", ".join(f"{r.label} (CUDA {r.cuda})" for r in runtimes)
            c.error(
                _where(facts, fw.where),
                "framework-runtime-major",
                f"{fw.label} is built for CUDA {fw.cuda}, but the CUDA runtime beside it is "
                f"{listed}",
                f"lock the CUDA {fw.cuda.major} runtime {fw.name} requires, or a build of "
                f"{fw.name} for CUDA {runtimes[0].cuda.major}",
            )


def _check_framework_runtime(facts: CudaFacts, c: ErrorCollector) -> None:
    for fw in facts.frameworks:
        if fw.cuda is None or fw.cuda.minor is None:
            continue
        cudarts = [
            r
            for r in facts.runtimes
            if r.decides and r.cuda.major == fw.cuda.major and r.cuda.minor is not None
        ]
        newest = _newest((r.cuda, r.label) for r in cudarts)
        if newest is not None and newest.sort_key < fw.cuda.sort_key:
            c.error(
                _where(facts, fw.where),
                "framework-newer-than-runtime",
                f"{fw.label} is built for CUDA {fw.cuda}, but the CUDA runtime beside it is "
                f"{newest} ({', '.join(r.label for r in cudarts)})",
                f"lock nvidia-cuda-runtime-cu{fw.cuda.major} {fw.cuda} or newer (what {fw.name} "
                "requires), or a build of the framework for the runtime's CUDA",
            )


def _check_cudnn(facts: CudaFacts, c: ErrorCollector) -> None:
    cudnn: dict[int, list[str]] = {}
    for r in facts.runtimes:
        if r.library == "cudnn" and r.version.split(".")[0].isdigit():
            cudnn.setdefault(int(r.version.split(".")[0]), []).append(r.label)
    if len(cudnn) > 1:
        listed = "; ".join(f"cuDNN {m}: {', '.join(v)}" for m, v in sorted(cudnn.items()))
        c.error(_where(facts, ""), "cudnn-major", f"two cuDNN majors ({listed})", "keep one")
    for fw in facts.frameworks:
        if fw.cudnn_major is None or not cudnn or fw.cudnn_major in cudnn:
            continue
        have = ", ".join(f"{m} ({', '.join(v)})" for m, v in sorted(cudnn.items()))
        c.error(
            _where(facts, fw.where),
            "cudnn-major",
            f"{fw.label} needs cuDNN {fw.cudnn_major}, the image has cuDNN {have}",
            f"lock nvidia-cudnn-cu{fw.cuda.major if fw.cuda else 'NN'} {fw.cudnn_major}.x",
        )


def summarize(facts: CudaFacts, kb: KnowledgeBase) -> CudaSummary:
    """What the CUDA in `facts` needs from a driver, and what is wrong with it."""
    collector = ErrorCollector()
    checks = (
        _check_majors,
        _check_duplicates,
        _check_framework_major,
        _check_framework_runtime,
        _check_cudnn,
    )
    for check in checks:
        check(facts, collector)
    cuda = image_cuda(facts)
    notes: list[str] = _newer_components(facts, cuda, kb) if cuda else []
    row = None
    if cuda is not None and cuda.minor is not None:
        row = kb.ga(cuda) or kb.floor_at_most(cuda)
        if row is not None and row.version != cuda:
            notes.append(
                f"CUDA {cuda} is newer than the knowledge base ({kb.newest}): it needs at "
                f"least {row.driver}, the floor of CUDA {row.version}"
            )
    elif cuda is not None:
        notes.append(f"only the CUDA major ({cuda.major}) is known: no exact driver floor")
    minor = kb.minor_compat_for(cuda.major) if cuda else None
    for fw in facts.frameworks:
        if fw.archs is None:
            notes.append(f"{fw.label}: {fw.how}; its kernel architectures are unknown")
    return CudaSummary(
        origin=facts.origin,
        runtimes=facts.runtimes,
        frameworks=facts.frameworks,
        cuda=cuda,
        min_driver=row.driver if row else None,
        min_driver_release=row.label if row else None,
        minor_compat_driver=minor.min_driver if minor else None,
        notes=tuple(notes),
        findings=collector.findings,
    )
