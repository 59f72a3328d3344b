"""What a plan's labels and environment carry about CUDA, from the knowledge base: the
compute capabilities the framework builds for, the minor-compatibility driver floor, and the
NVIDIA_REQUIRE_CUDA expression the NVIDIA container runtime checks before it starts a container.
"""

from __future__ import annotations

from collections.abc import Iterable

from imagekit.gpu.facts import facts_of_packages
from imagekit.gpu.kb import knowledge_base
from imagekit.gpu.versions import CudaVersion, format_arch_list


def cuda_labels(cuda_version: str, packages: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`io.imagekit.cuda.*` labels beyond version and min-driver (which the CudaPlan carries):
    the framework's compute capabilities when known, and the minor-compatibility driver."""
    kb = knowledge_base()
    facts = facts_of_packages(((n, v, "") for n, v in packages), "", kb)
    labels: dict[str, str] = {}
    archs = next((f.archs for f in facts.frameworks if f.archs), None)
    if archs:
        labels["io.imagekit.cuda.compute-capabilities"] = format_arch_list(archs)
    minor = kb.minor_compat_for(CudaVersion.parse(cuda_version).major)
    if minor is not None:
        labels["io.imagekit.cuda.minor-compat-driver"] = str(minor.min_driver)
    return labels


def require_cuda(cuda_version: str) -> str:
    """NVIDIA_REQUIRE_CUDA for a CUDA version, consistent with `imagekit compat`.

    The NVIDIA container runtime reads space-separated constraints as OR and comma-separated
    ones as AND ("cuda>=11.0 driver>=450" in its documentation). `cuda>=12.4` admits drivers
    that support CUDA 12.4; `driver>=525` admits the drivers CUDA 12.x minor version
    compatibility covers, as NVIDIA's own CUDA images do with their brand=...,driver>=525 terms.
    """
    cuda = CudaVersion.parse(cuda_version)
    expression = f"cuda>={cuda}"
    minor = knowledge_base().minor_compat_for(cuda.major)
    if minor is not None:
        expression += f" driver>={minor.min_driver.branch}"
    return expression
