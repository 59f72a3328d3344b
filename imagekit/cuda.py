"""What the build needs to know about CUDA: the runtime a lock brings, and its minimum driver.

The driver floors come from the CUDA knowledge base (`imagekit/data/cuda_kb.toml`, NVIDIA's
table "CUDA Toolkit and Corresponding Driver Versions", Linux x86_64): the floor of a CUDA
major.minor is its GA release's driver.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.version import Version

from imagekit.plan.model import CudaPlan

if TYPE_CHECKING:
    from imagekit.project.lockfile import LockedPackage


# nvidia-cuda-runtime-cu12 12.4.127 -> CUDA 12.4; nvidia-cuda-runtime 13.0.96 (CUDA 13 wheels drop
# the suffix) -> CUDA 13.0; the cuda-toolkit metapackage 13.0.3 -> CUDA 13.0; torch 2.5.1+cu124
# -> CUDA 12.4. The runtime decides: other components (nvidia-nvjitlink 13.5) never do.
_RUNTIME = re.compile(r"^(?:nvidia-cuda-runtime(?:-cu\d+)?|cuda-toolkit)$")
_LOCAL_CU = re.compile(r"^cu(?P<major>\d{2})(?P<minor>\d)$")


def min_driver(cuda: Version) -> str:
    """The minimum driver for a CUDA major.minor; the newest known floor below it if unknown."""
    from imagekit.gpu.kb import knowledge_base  # noqa: PLC0415 - CUDA plans only, not every check
    from imagekit.gpu.versions import CudaVersion  # noqa: PLC0415

    row = knowledge_base().floor_at_most(CudaVersion(major=cuda.major, minor=cuda.minor))
    return str(row.driver) if row else "unknown"


def cuda_of_packages(packages: tuple[LockedPackage, ...]) -> CudaPlan | None:
    """The CUDA runtime a set of locked packages brings, if any."""
    for pkg in sorted(packages, key=lambda p: p.name):
        if pkg.version is None:
            continue
        if _RUNTIME.match(pkg.name):
            version = Version(f"{pkg.version.major}.{pkg.version.minor}")
            return CudaPlan(
                version=str(version),
                min_driver=min_driver(version),
                source=f"{pkg.name}=={pkg.version}",
            )
    for pkg in sorted(packages, key=lambda p: p.name):
        m = _LOCAL_CU.match(pkg.version.local or "") if pkg.version else None
        if m:
            version = Version(f"{m['major']}.{m['minor']}")
            return CudaPlan(
                version=str(version),
                min_driver=min_driver(version),
                source=f"{pkg.name}=={pkg.version}",
            )
    return None
