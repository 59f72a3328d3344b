"""GPU and CUDA compatibility: what the driver on a machine offers (probe), what an image's CUDA
needs (knowledge base + compat), and the verdict for a host or each node pool of a fleet.

`imagekit.gpu.probe` is imported on its own: it is the one module that loads pynvml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.lazy import lazy_exports

if TYPE_CHECKING:
    from imagekit.gpu.compat import (
        CompatReport,
        IncompatibleError,
        PoolVerdict,
        Verdict,
        compat_of_inventory,
        compat_of_plan,
        evaluate,
    )
    from imagekit.gpu.facts import CudaFacts, CudaRuntime, FrameworkBuild, RuntimeKind
    from imagekit.gpu.fleet import Pool, host_pools, load_fleet
    from imagekit.gpu.kb import knowledge_base
    from imagekit.gpu.kb_model import KnowledgeBase
    from imagekit.gpu.summary import CudaSummary
    from imagekit.gpu.versions import (
        Arch,
        ComputeCapability,
        CudaVersion,
        DriverVersion,
        VersionError,
    )

__all__ = [
    "Arch",
    "CompatReport",
    "ComputeCapability",
    "CudaFacts",
    "CudaRuntime",
    "CudaSummary",
    "CudaVersion",
    "DriverVersion",
    "FrameworkBuild",
    "IncompatibleError",
    "KnowledgeBase",
    "Pool",
    "PoolVerdict",
    "RuntimeKind",
    "Verdict",
    "VersionError",
    "compat_of_inventory",
    "compat_of_plan",
    "evaluate",
    "host_pools",
    "knowledge_base",
    "load_fleet",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "compat": (
            "CompatReport",
            "IncompatibleError",
            "PoolVerdict",
            "Verdict",
            "compat_of_inventory",
            "compat_of_plan",
            "evaluate",
        ),
        "facts": (
            "CudaFacts",
            "CudaRuntime",
            "FrameworkBuild",
            "RuntimeKind",
        ),
        "fleet": (
            "Pool",
            "host_pools",
            "load_fleet",
        ),
        "kb": ("knowledge_base",),
        "kb_model": ("KnowledgeBase",),
        "summary": ("CudaSummary",),
        "versions": (
            "Arch",
            "ComputeCapability",
            "CudaVersion",
            "DriverVersion",
            "VersionError",
        ),
    },
)
