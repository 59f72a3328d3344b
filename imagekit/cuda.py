"""What the build needs to know about CUDA: the runtime a lock brings, and its minimum driver.

Minimum Linux driver of each CUDA toolkit release, from NVIDIA's CUDA Toolkit release notes,
table "CUDA Toolkit and Corresponding Driver Versions" (toolkit driver, x86_64).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.version import Version

if TYPE_CHECKING:
    from imagekit.lockfile import LockedPackage


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


MIN_DRIVER: dict[str, str] = {  # the GA release of each minor version
    "11.0": "450.51.05",
    "11.1": "455.23",
    "11.2": "460.27.03",
    "11.3": "465.19.01",
    "11.4": "470.42.01",
    "11.5": "495.29.05",
    "11.6": "510.39.01",
    "11.7": "515.43.04",
    "11.8": "520.61.05",
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
}

# nvidia-cuda-runtime-cu12 12.4.127 -> CUDA 12.4; torch 2.5.1+cu124 -> CUDA 12.4
_RUNTIME = re.compile(r"^nvidia-cuda-runtime-cu(?P<major>\d+)$")
_LOCAL_CU = re.compile(r"^cu(?P<major>\d{2})(?P<minor>\d)$")


def min_driver(cuda: Version) -> str:
    """The minimum driver for a CUDA major.minor; the newest known floor below it if unknown."""
    key = f"{cuda.major}.{cuda.minor}"
    if key in MIN_DRIVER:
        return MIN_DRIVER[key]
    known = sorted((Version(k) for k in MIN_DRIVER if Version(k) <= cuda), reverse=True)
    return MIN_DRIVER[f"{known[0].major}.{known[0].minor}"] if known else "unknown"


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
