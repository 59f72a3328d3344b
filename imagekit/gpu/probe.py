"""What the NVIDIA driver on this machine says, through NVML (pynvml, from nvidia-ml-py).

The only module that imports pynvml. Every call goes through NVML; nothing is guessed from
nvidia-smi's text. A machine without a driver (libnvidia-ml.so.1 missing, or the kernel module
not loaded) gets `NoDriverError`, its own exit code, never a traceback; NVML is always shut
down again once it started.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import pynvml

from imagekit.errors import ImagekitError
from imagekit.gpu.versions import ComputeCapability, CudaVersion, DriverVersion, VersionError

T = TypeVar("T")


class ProbeError(ImagekitError):
    """NVML answered, but with an error no report can be made from."""

    exit_code = 5


class NoDriverError(ProbeError):
    """No NVIDIA driver on this machine (or it is not loaded)."""

    exit_code = 4


class MigState(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    NOT_SUPPORTED = "not supported"


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuDevice:
    """One GPU as NVML reports it."""

    index: int
    name: str
    uuid: str
    memory_total: int  # bytes
    compute_capability: ComputeCapability
    mig_current: MigState
    mig_pending: MigState
    persistence: bool | None  # None: not supported (NVML_ERROR_NOT_SUPPORTED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "uuid": self.uuid,
            "memory_total": self.memory_total,
            "compute_capability": str(self.compute_capability),
            "mig": {"current": self.mig_current.value, "pending": self.mig_pending.value},
            "persistence": self.persistence,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class HostProbe:
    """The driver, the CUDA version it supports, and its GPUs."""

    driver: DriverVersion
    cuda: CudaVersion  # the newest CUDA the driver supports (nvmlSystemGetCudaDriverVersion)
    gpus: tuple[GpuDevice, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "driver": str(self.driver),
            "cuda": str(self.cuda),
            "gpus": [g.to_dict() for g in self.gpus],
        }


def _call(what: str, fn: Callable[..., T], *args: Any) -> T:
    """One NVML call; an NVML error becomes a `ProbeError` naming the call."""
    try:
        return fn(*args)
    except pynvml.NVMLError as e:
        raise ProbeError(f"NVML {what} failed: {e}") from e


def _optional(fn: Callable[..., T], *args: Any) -> T | None:
    """An NVML query a GPU may not support: None for NVML_ERROR_NOT_SUPPORTED."""
    try:
        return fn(*args)
    except pynvml.NVMLError_NotSupported:
        return None
    except pynvml.NVMLError as e:
        raise ProbeError(f"NVML {getattr(fn, '__name__', 'call')} failed: {e}") from e


def _init() -> None:
    try:
        pynvml.nvmlInit()
    except (pynvml.NVMLError_LibraryNotFound, pynvml.NVMLError_DriverNotLoaded) as e:
        raise NoDriverError(
            f"no NVIDIA driver on this machine: {e} (NVML could not start; install the NVIDIA "
            "driver, or run where one is, to probe GPUs)"
        ) from e
    except pynvml.NVMLError as e:
        raise ProbeError(f"NVML could not start: {e}") from e


def _cuda_version() -> CudaVersion:
    try:
        value = pynvml.nvmlSystemGetCudaDriverVersion_v2()
    except pynvml.NVMLError_FunctionNotFound:  # drivers older than the _v2 entry point
        value = _call("nvmlSystemGetCudaDriverVersion", pynvml.nvmlSystemGetCudaDriverVersion)
    except pynvml.NVMLError as e:
        raise ProbeError(f"NVML nvmlSystemGetCudaDriverVersion_v2 failed: {e}") from e
    return CudaVersion.from_nvml(int(value))


def _mig(handle: Any) -> tuple[MigState, MigState]:
    modes = _optional(pynvml.nvmlDeviceGetMigMode, handle)
    if modes is None:
        return MigState.NOT_SUPPORTED, MigState.NOT_SUPPORTED
    current, pending = (
        MigState.ENABLED if m == pynvml.NVML_DEVICE_MIG_ENABLE else MigState.DISABLED for m in modes
    )
    return current, pending


def _device(index: int) -> GpuDevice:
    handle = _call("nvmlDeviceGetHandleByIndex", pynvml.nvmlDeviceGetHandleByIndex, index)
    major, minor = _call(
        "nvmlDeviceGetCudaComputeCapability", pynvml.nvmlDeviceGetCudaComputeCapability, handle
    )
    memory = _call("nvmlDeviceGetMemoryInfo", pynvml.nvmlDeviceGetMemoryInfo, handle)
    persistence = _optional(pynvml.nvmlDeviceGetPersistenceMode, handle)
    current, pending = _mig(handle)
    return GpuDevice(
        index=index,
        name=str(_call("nvmlDeviceGetName", pynvml.nvmlDeviceGetName, handle)),
        uuid=str(_call("nvmlDeviceGetUUID", pynvml.nvmlDeviceGetUUID, handle)),
        memory_total=int(memory.total),
        compute_capability=ComputeCapability(major=int(major), minor=int(minor)),
        mig_current=current,
        mig_pending=pending,
        persistence=None if persistence is None else persistence == pynvml.NVML_FEATURE_ENABLED,
    )


def _read() -> HostProbe:
    text = _call("nvmlSystemGetDriverVersion", pynvml.nvmlSystemGetDriverVersion)
    try:
        driver = DriverVersion.parse(str(text))
    except VersionError as e:
        raise ProbeError(f"NVML reports an unreadable driver version: {e}") from e
    count = int(_call("nvmlDeviceGetCount", pynvml.nvmlDeviceGetCount))
    return HostProbe(
        driver=driver,
        cuda=_cuda_version(),
        gpus=tuple(_device(i) for i in range(count)),
    )


def probe() -> HostProbe:
    """The driver and GPUs of this machine.

    Raises `NoDriverError` (no driver or library) or `ProbeError` (NVML failed); NVML is shut
    down before returning or raising once it was started.
    """
    _init()
    try:
        return _read()
    finally:
        with suppress(pynvml.NVMLError):  # a failed shutdown cannot make the report wrong
            pynvml.nvmlShutdown()
