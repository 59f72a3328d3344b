"""The environment a lock is evaluated for: the base image's Python on the target platform."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

_MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}


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
