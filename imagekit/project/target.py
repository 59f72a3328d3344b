"""What a lock is evaluated and its wheels chosen for: the base image's CPython on the target
platform (`TargetEnv` for PEP 508 markers; `Target`, with the base's glibc, for wheel tags)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from imagekit.errors import ImagekitError

_MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
# The oldest glibc each architecture's manylinux wheels were ever built for (PEP 600).
_OLDEST_GLIBC_MINOR = {"x86_64": 5, "aarch64": 17}
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


class TargetError(ImagekitError):
    """A platform or glibc no wheel is built for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetEnv:
    """A CPython on Linux: enough to evaluate PEP 508 markers and choose wheel tags."""

    python: Version
    platform: str  # "linux/amd64" | "linux/arm64"

    @property
    def machine(self) -> str:
        return _MACHINES[self.platform]

    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 marker variables of this target (never of the host)."""
        return {
            "implementation_name": "cpython",
            "implementation_version": str(self.python),
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": str(self.python),
            "python_version": f"{self.python.major}.{self.python.minor}",
            "sys_platform": "linux",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The interpreter and platform the wheels are for: CPython `python` on glibc `glibc`."""

    python: Version
    platform: str  # "linux/amd64" | "linux/arm64"
    glibc: tuple[int, int]  # the base's, from its catalog entry: no default fits every base

    def __post_init__(self) -> None:
        if self.platform not in _MACHINES:
            known = ", ".join(sorted(_MACHINES))
            raise TargetError(f"unknown platform {self.platform!r} (use one of: {known})")
        if self.glibc[0] != 2:
            raise TargetError(f"unsupported glibc {self.glibc[0]}.{self.glibc[1]}")

    @property
    def arch(self) -> str:
        return _MACHINES[self.platform]

    @property
    def abi(self) -> str:
        """The CPython ABI tag: `cp311`."""
        return f"cp{self.python.major}{self.python.minor}"

    def platform_tags(self) -> tuple[str, ...]:
        """manylinux platform tags this glibc runs, newest first, with their legacy aliases.

        `linux_<arch>` is left out on purpose: such wheels were built for one machine only.
        """
        arch = self.arch
        out: list[str] = []
        for minor in range(self.glibc[1], _OLDEST_GLIBC_MINOR[arch] - 1, -1):
            out.append(f"manylinux_2_{minor}_{arch}")
            legacy = _LEGACY_MANYLINUX.get(minor)
            if legacy and not (legacy == "manylinux1" and arch != "x86_64"):
                out.append(f"{legacy}_{arch}")
        return tuple(out)

    def tags(self) -> tuple[Tag, ...]:
        """Every wheel tag the target accepts, most preferred first (as pip ranks them)."""
        return _tags(self)

    def rank(self, filename: str) -> int | None:
        """The best rank (0 = most preferred) of a wheel file name's tags; None: it does not fit."""
        try:
            _, _, _, file_tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        ranks = [rank for tag in file_tags if (rank := _ranks(self).get(tag)) is not None]
        return min(ranks) if ranks else None

    def __str__(self) -> str:
        return f"{self.abi} {self.platform} glibc {self.glibc[0]}.{self.glibc[1]}"


@functools.cache
def _tags(target: Target) -> tuple[Tag, ...]:
    version = (target.python.major, target.python.minor)
    platforms = list(target.platform_tags())
    ranked = [*cpython_tags(version, abis=[target.abi], platforms=platforms)]
    ranked += compatible_tags(version, target.abi, platforms)
    return tuple(dict.fromkeys(ranked))


@functools.cache
def _ranks(target: Target) -> dict[Tag, int]:
    return {tag: i for i, tag in enumerate(_tags(target))}
