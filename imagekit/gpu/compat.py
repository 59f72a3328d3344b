"""Will an image run on a machine, a node pool, a fleet? One evaluation for an image that
exists (its Inventory) and for one that is only planned (its plan and its lock's packages).

For each pool the verdict is one of: runs; runs with minor version compatibility (and its
limits); runs with forward compatibility (data-centre GPU with cuda-compat); refused (the driver
is too old, or the framework has no kernels for the pool's GPU), always with the reason.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imagekit.errors import ImagekitError
from imagekit.gpu.facts import (
    CudaFacts,
    CudaRuntime,
    FrameworkBuild,
    RuntimeKind,
    facts_of_inventory,
    facts_of_packages,
)
from imagekit.gpu.fleet import Pool
from imagekit.gpu.kb import knowledge_base
from imagekit.gpu.kb_model import KnowledgeBase
from imagekit.gpu.summary import CudaSummary, summarize
from imagekit.gpu.versions import Arch, ComputeCapability, CudaVersion, format_arch_list

if TYPE_CHECKING:
    from imagekit.inventory.model import Inventory
    from imagekit.plan.model import BuildPlan
    from imagekit.project.lockfile import LockedPackage

NO_CUDA = "no CUDA in the image: runs anywhere, no driver needed"


class Verdict(enum.StrEnum):
    RUNS = "runs"
    MINOR_COMPAT = "runs-with-minor-compat"
    FORWARD_COMPAT = "runs-with-forward-compat"
    REFUSED = "refused"


class IncompatibleError(ImagekitError):
    """No pool of the fleet can run the image."""

    exit_code = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolVerdict:
    pool: Pool
    verdict: Verdict
    reason: str
    limits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool.to_dict(),
            "verdict": self.verdict.value,
            "reason": self.reason,
            "limits": list(self.limits),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CompatReport:
    image: str
    summary: CudaSummary
    pools: tuple[PoolVerdict, ...]

    @property
    def runnable(self) -> bool:
        """Some pool runs it (with or without a compatibility mode)."""
        return any(p.verdict is not Verdict.REFUSED for p in self.pools)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "summary": NO_CUDA if self.summary.cuda is None else None,
            "cuda": self.summary.to_dict(),
            "pools": [p.to_dict() for p in self.pools],
        }


def _coverage(fw: FrameworkBuild, cc: ComputeCapability) -> tuple[str, Arch | None]:
    """`native`, `ptx` (with the PTX arch) or `none`; `unknown` when the build is unknown."""
    if fw.archs is None:
        return "unknown", None
    if any(a.runs_natively_on(cc) for a in fw.archs):
        return "native", None
    ptx = [a for a in fw.archs if a.jit_covers(cc)]
    return ("ptx", max(ptx)) if ptx else ("none", None)


def _kernels(s: CudaSummary, pool: Pool) -> tuple[str | None, bool, list[str]]:
    """(refusal reason or None, whether kernels come from PTX, limits) for the pool's GPU."""
    limits: list[str] = []
    from_ptx = False
    for fw in s.frameworks:
        kind, arch = _coverage(fw, pool.cc)
        if kind == "none" and fw.archs is not None:
            return (
                f"pool {pool.name}: no kernels for {pool.label} in {fw.label}: it builds for "
                f"{format_arch_list(fw.archs)} ({fw.how})",
                False,
                limits,
            )
        if kind == "ptx" and arch is not None:
            from_ptx = True
            limits.append(
                f"{fw.label} has no machine code for {pool.cc}: the driver JIT-compiles its "
                f"compute_{arch.cc.major}{arch.cc.minor} PTX at first use (slow start; needs the "
                "full driver)"
            )
        if kind == "unknown":
            limits.append(f"{fw.label}: kernel coverage unknown ({fw.how})")
    return None, from_ptx, limits


def _min_cc_refusal(s: CudaSummary, pool: Pool, kb: KnowledgeBase) -> str | None:
    if s.cuda is None:
        return None
    floor = kb.min_cc(s.cuda.major)
    if floor is not None and pool.cc < floor:
        return (
            f"pool {pool.name}: CUDA {s.cuda.major} libraries carry no code for {pool.label}; "
            f"they need compute capability {floor} or newer"
        )
    return None


def _too_old(s: CudaSummary, pool: Pool, from_ptx: bool, kb: KnowledgeBase) -> str:
    needed = s.min_driver or s.minor_compat_driver
    text = f"pool {pool.name}: driver {pool.driver} is older than {needed} that CUDA {s.cuda} needs"
    minor = s.minor_compat_driver
    if minor is not None and minor != needed:
        if pool.driver >= minor and from_ptx:
            text += (
                f"; minor version compatibility (>= {minor}) does not help: the kernels for "
                f"{pool.cc} exist only as PTX, which the older driver cannot JIT-compile"
            )
        else:
            text += f" ({minor} with minor version compatibility)"
    branch = kb.driver_branch(pool.driver.branch)
    if not pool.datacenter and pool.cuda_compat:
        text += "; cuda_compat is set, but forward compatibility needs a data-centre GPU"
    elif pool.cuda_compat and branch is not None and not branch.forward_compatible:
        text += (
            f"; cuda_compat is set, but R{branch.branch} is a {branch.designation} branch: "
            "forward compatibility needs a long-term support or production branch"
        )
    return text


def _driver_verdict(
    s: CudaSummary,
    cuda: CudaVersion,
    pool: Pool,
    kb: KnowledgeBase,
    *,
    from_ptx: bool,
    notes: tuple[str, ...],
) -> PoolVerdict:
    """The verdict once the pool's GPU has kernels for `cuda`: what the pool's driver allows."""
    full, minor = s.min_driver, s.minor_compat_driver
    if full is not None and pool.driver >= full:
        reason = f"driver {pool.driver} >= {full} ({s.min_driver_release})"
        return PoolVerdict(pool=pool, verdict=Verdict.RUNS, reason=reason, limits=notes)
    if minor is not None and pool.driver >= minor and not from_ptx:
        reason = (
            f"driver {pool.driver} is older than {full or 'the release floor'} for CUDA {cuda}, "
            f"but CUDA {cuda.major}.x minor version compatibility needs only {minor}"
        )
        limits = notes + kb.minor_compat_limits
        return PoolVerdict(pool=pool, verdict=Verdict.MINOR_COMPAT, reason=reason, limits=limits)
    branch = kb.driver_branch(pool.driver.branch)
    if pool.cuda_compat and pool.datacenter and (branch is None or branch.forward_compatible):
        package = kb.forward_compat.package_for(cuda)
        reason = (
            f"driver {pool.driver} is older than {full or minor} for CUDA {cuda}; forward "
            f"compatibility through {package} on a data-centre GPU, {pool.label}"
        )
        limits = notes + kb.forward_compat.limits_for(cuda)
        if branch is None:
            limits += (
                f"the knowledge base does not know how NVIDIA designates driver branch "
                f"R{pool.driver.branch}: forward compatibility needs a long-term support or "
                "production branch",
            )
        return PoolVerdict(pool=pool, verdict=Verdict.FORWARD_COMPAT, reason=reason, limits=limits)
    return PoolVerdict(pool=pool, verdict=Verdict.REFUSED, reason=_too_old(s, pool, from_ptx, kb))


def judge(s: CudaSummary, pool: Pool, kb: KnowledgeBase) -> PoolVerdict:
    """The verdict for one pool, with its reason and the limits of the mode it runs in."""
    if s.cuda is None:
        return PoolVerdict(pool=pool, verdict=Verdict.RUNS, reason=NO_CUDA)
    refusal, from_ptx, limits = _kernels(s, pool)
    refusal = refusal or _min_cc_refusal(s, pool, kb)
    if refusal is not None:
        return PoolVerdict(pool=pool, verdict=Verdict.REFUSED, reason=refusal)
    notes = tuple(limits) + s.notes
    return _driver_verdict(s, s.cuda, pool, kb, from_ptx=from_ptx, notes=notes)


def evaluate(facts: CudaFacts, pools: Iterable[Pool], kb: KnowledgeBase) -> CompatReport:
    """The summary of `facts` and the verdict for each pool."""
    summary = summarize(facts, kb)
    verdicts = tuple(judge(summary, pool, kb) for pool in pools)
    return CompatReport(image=facts.origin, summary=summary, pools=verdicts)


def compat_of_inventory(
    inventory: Inventory, pools: Iterable[Pool] = (), kb: KnowledgeBase | None = None
) -> CompatReport:
    """Compatibility of an image, read from its own files."""
    kb = kb or knowledge_base()
    return evaluate(facts_of_inventory(inventory, kb), pools, kb)


def facts_of_plan(
    plan: BuildPlan, kb: KnowledgeBase, packages: Iterable[LockedPackage] | None = None
) -> CudaFacts:
    """The CUDA a plan will put in the image: its base's CUDA, and the lock's packages
    (`packages`, or the plan's own layers, which leave out what the base already carries)."""
    if packages is None:
        rows = [
            (p.name, str(p.version), f"{plan.lock_file}: {p.name}=={p.version}")
            for layer in plan.python_layers
            for p in layer.packages
        ]
    else:
        rows = [
            (p.name, str(p.version), str(p.location)) for p in packages if p.version is not None
        ]
    facts = facts_of_packages(rows, plan.lock_file, kb)
    if plan.cuda is not None and plan.cuda.source.startswith("base "):
        base = CudaRuntime(
            kind=RuntimeKind.TOOLKIT,
            name=plan.cuda.source,
            version=plan.cuda.version,
            library="cudart",
            cuda=CudaVersion.parse(plan.cuda.version),
            where=plan.cuda.source,
        )
        facts = CudaFacts(
            origin=facts.origin, runtimes=(base, *facts.runtimes), frameworks=facts.frameworks
        )
    return facts


def compat_of_plan(
    plan: BuildPlan,
    pools: Iterable[Pool] = (),
    *,
    packages: Iterable[LockedPackage] | None = None,
    kb: KnowledgeBase | None = None,
) -> CompatReport:
    """Compatibility of an image not built yet: from its plan, its base's CUDA and the lock."""
    kb = kb or knowledge_base()
    report = evaluate(facts_of_plan(plan, kb, packages), pools, kb)
    return CompatReport(image=plan.image_ref, summary=report.summary, pools=report.pools)
