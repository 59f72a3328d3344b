"""The small values GPU compatibility is made of: driver versions, CUDA versions, compute
capabilities and the architectures a framework build carries kernels for.

Each parses strictly at the boundary and raises `VersionError` (a `ValueError`) with a message
that says what was wrong and how the value is written; callers add the file and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DRIVER = re.compile(r"^\d{1,4}(?:\.\d{1,4}){0,2}$")
_CUDA = re.compile(r"^(?P<major>\d{1,2})(?:\.(?P<minor>\d{1,2}))?(?:\.\d+)*$")
_CC = re.compile(r"^(?P<major>\d{1,2})\.(?P<minor>\d)$")
_ARCH = re.compile(r"^(?P<cc>\d{1,2}\.\d)(?P<ptx>\+PTX)?$")


class VersionError(ValueError):
    """A driver, CUDA or compute capability string that does not parse; one line."""


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class DriverVersion:
    """An NVIDIA Linux driver version as nvidia-smi prints it: `535.104.05`, `550.54`, `580`.

    Ordered numerically, missing parts counting as 0 (`550.54` < `550.54.14`).
    """

    key: tuple[int, int, int]
    text: str = field(compare=False)

    @classmethod
    def parse(cls, text: str) -> DriverVersion:
        """Parse a driver version; surrounding whitespace is ignored. Raises `VersionError`."""
        value = text.strip()
        if not _DRIVER.match(value):
            raise VersionError(
                f"{text!r} is not a driver version (write it as nvidia-smi prints it, "
                "e.g. 535.104.05)"
            )
        parts = [int(p) for p in value.split(".")]
        parts += [0] * (3 - len(parts))
        return cls(key=(parts[0], parts[1], parts[2]), text=value)

    @property
    def branch(self) -> int:
        """The driver branch: 535 for 535.104.05."""
        return self.key[0]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaVersion:
    """A CUDA version, major.minor (`12.4`), or a major alone (`12`) where that is all known."""

    major: int
    minor: int | None = None

    @property
    def sort_key(self) -> tuple[int, int]:
        """Orders versions; a major alone sorts before every minor of it."""
        return (self.major, -1 if self.minor is None else self.minor)

    @classmethod
    def parse(cls, text: str) -> CudaVersion:
        """`12.4`, `12.4.127` (cut to 12.4) or `12`; raises `VersionError`."""
        m = _CUDA.match(text.strip())
        if not m:
            raise VersionError(f"{text!r} is not a CUDA version (write it as 12.4)")
        minor = m["minor"]
        return cls(major=int(m["major"]), minor=int(minor) if minor is not None else None)

    @classmethod
    def from_nvml(cls, value: int) -> CudaVersion:
        """The CUDA version NVML reports as an integer: 12040 is 12.4."""
        if value <= 0:
            raise VersionError(f"{value} is not a CUDA version NVML reports (e.g. 12040)")
        return cls(major=value // 1000, minor=(value % 1000) // 10)

    @classmethod
    def from_tag(cls, tag: str) -> CudaVersion:
        """The CUDA version of a framework build tag: `cu124` is 12.4, `cu118` is 11.8."""
        m = re.match(r"^cu(?P<major>\d{2})(?P<minor>\d)$", tag)
        if not m:
            raise VersionError(f"{tag!r} is not a CUDA build tag (write it as cu124)")
        return cls(major=int(m["major"]), minor=int(m["minor"]))

    @property
    def tag(self) -> str:
        return f"cu{self.major}{self.minor or 0}"

    def __str__(self) -> str:
        return str(self.major) if self.minor is None else f"{self.major}.{self.minor}"


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class ComputeCapability:
    """A GPU's compute capability: `8.6`."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> ComputeCapability:
        """`8.6`; raises `VersionError`."""
        m = _CC.match(text.strip())
        if not m:
            raise VersionError(f"{text!r} is not a compute capability (write it as 8.6)")
        return cls(major=int(m["major"]), minor=int(m["minor"]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class Arch:
    """One entry of a TORCH_CUDA_ARCH_LIST: machine code (SASS) for `cc`, plus PTX if `ptx`."""

    cc: ComputeCapability
    ptx: bool = False

    @classmethod
    def parse(cls, text: str) -> Arch:
        """`8.6` or `9.0+PTX`; raises `VersionError`."""
        m = _ARCH.match(text.strip())
        if not m:
            raise VersionError(f"{text!r} is not an architecture (write it as 8.6 or 9.0+PTX)")
        return cls(cc=ComputeCapability.parse(m["cc"]), ptx=bool(m["ptx"]))

    def runs_natively_on(self, gpu: ComputeCapability) -> bool:
        """SASS for X.y runs on X.z with z >= y (CUDA C++ Programming Guide: binary compat)."""
        return self.cc.major == gpu.major and self.cc.minor <= gpu.minor

    def jit_covers(self, gpu: ComputeCapability) -> bool:
        """PTX for X.Y is JIT-compiled by the driver for any GPU of capability >= X.Y."""
        return self.ptx and self.cc <= gpu

    def __str__(self) -> str:
        return f"{self.cc}+PTX" if self.ptx else str(self.cc)


def parse_arch_list(text: str) -> tuple[Arch, ...]:
    """A TORCH_CUDA_ARCH_LIST value, `5.0;6.0;9.0+PTX`; raises `VersionError`."""
    items = [item for item in re.split(r"[;\s]+", text.strip()) if item]
    if not items:
        raise VersionError("an empty architecture list (write it as 7.5;8.0;9.0+PTX)")
    return tuple(Arch.parse(item) for item in items)


def format_arch_list(archs: tuple[Arch, ...]) -> str:
    """The archs as a TORCH_CUDA_ARCH_LIST value: `7.5;8.0;9.0+PTX`."""
    return ";".join(str(a) for a in archs)
