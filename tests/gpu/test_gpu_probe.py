"""The NVML probe. NVML is faked only at the pynvml call boundary, with answers recorded from
real GPUs and drivers (see _gpu_support); the real probe runs unfaked where a GPU is."""

from __future__ import annotations

from typing import Any

import pynvml
import pytest
from _gpu_support import MIB, fake

from imagekit.gpu import ComputeCapability, CudaVersion, DriverVersion, host_pools, knowledge_base
from imagekit.gpu.probe import MigState, NoDriverError, ProbeError, probe


def test_h100_on_550(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = fake(monkeypatch, "h100-550")
    host = probe()
    assert host.driver == DriverVersion.parse("550.54.15")
    assert host.cuda == CudaVersion(major=12, minor=4)
    assert [g.index for g in host.gpus] == [0, 1]
    gpu = host.gpus[0]
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.uuid.startswith("GPU-")
    assert gpu.memory_total == 81559 * MIB
    assert gpu.compute_capability == ComputeCapability(major=9, minor=0)
    assert (gpu.mig_current, gpu.mig_pending) == (MigState.DISABLED, MigState.DISABLED)
    assert gpu.persistence is True
    assert (nvml.inits, nvml.shutdowns) == (1, 1)
    pools = host_pools(host, knowledge_base())
    assert [(p.name, p.gpu, p.datacenter) for p in pools] == [
        ("host GPU 0,1", "NVIDIA H100 80GB HBM3", True)
    ]


def test_a100_on_525(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "a100-525")
    host = probe()
    assert (str(host.driver), str(host.cuda)) == ("525.85.12", "12.0")
    gpu = host.gpus[0]
    assert (gpu.compute_capability, gpu.memory_total) == (
        ComputeCapability(major=8, minor=0),
        40960 * MIB,
    )
    assert gpu.mig_current is MigState.DISABLED and gpu.persistence is False


def test_a100_with_mig_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "a100-mig-550")
    gpu = probe().gpus[0]
    assert (gpu.mig_current, gpu.mig_pending) == (MigState.ENABLED, MigState.ENABLED)
    assert gpu.to_dict()["mig"] == {"current": "enabled", "pending": "enabled"}


def test_t4_on_470_has_no_mig(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "t4-470")
    host = probe()
    assert (str(host.driver), str(host.cuda)) == ("470.82.01", "11.4")
    gpu = host.gpus[0]
    assert gpu.compute_capability == ComputeCapability(major=7, minor=5)
    assert gpu.mig_current is MigState.NOT_SUPPORTED
    assert gpu.memory_total == 15109 * MIB


def test_rtx_4090_on_560(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "rtx4090-560")
    host = probe()
    assert (str(host.driver), str(host.cuda)) == ("560.35.03", "12.6")
    gpu = host.gpus[0]
    assert gpu.compute_capability == ComputeCapability(major=8, minor=9)
    assert gpu.persistence is False and gpu.mig_current is MigState.NOT_SUPPORTED
    (pool,) = host_pools(host, knowledge_base())
    assert pool.datacenter is False  # a GeForce card: forward compatibility never applies


def test_old_driver_without_the_v2_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "t4-470")

    def missing() -> int:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlSystemGetCudaDriverVersion_v2", missing)
    monkeypatch.setattr(pynvml, "nvmlSystemGetCudaDriverVersion", lambda: 11040)
    assert str(probe().cuda) == "11.4"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "NVML Shared Library Not Found"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "Driver Not Loaded"),
    ],
)
def test_no_driver(monkeypatch: pytest.MonkeyPatch, code: int, text: str) -> None:
    nvml = fake(monkeypatch, "h100-550")

    def init() -> None:
        raise pynvml.NVMLError(code)

    monkeypatch.setattr(pynvml, "nvmlInit", init)
    with pytest.raises(NoDriverError, match=f"^no NVIDIA driver on this machine: {text}") as e:
        probe()
    assert e.value.exit_code == 4
    assert nvml.shutdowns == 0  # never started, so nothing to shut down


def test_nvml_failure_midway_still_shuts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = fake(monkeypatch, "a100-525")

    def lost(_: Any) -> Any:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

    monkeypatch.setattr(pynvml, "nvmlDeviceGetCudaComputeCapability", lost)
    with pytest.raises(
        ProbeError, match=r"^NVML nvmlDeviceGetCudaComputeCapability failed: GPU is lost$"
    ):
        probe()
    assert (nvml.inits, nvml.shutdowns) == (1, 1)


def test_unreadable_driver_version(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "a100-525")
    monkeypatch.setattr(pynvml, "nvmlSystemGetDriverVersion", lambda: "r535")
    with pytest.raises(
        ProbeError, match="unreadable driver version: 'r535' is not a driver version"
    ):
        probe()


@pytest.mark.gpu
def test_real_probe_on_this_machine() -> None:
    """The probe unchanged, against the real driver; skipped where NVML finds none."""
    try:
        host = probe()
    except NoDriverError as e:
        pytest.skip(str(e))
    assert host.driver.branch >= 400
    assert host.cuda.major >= 11
    assert host.gpus, "NVML sees the driver but no GPU"
    for gpu in host.gpus:
        assert gpu.uuid.startswith(("GPU-", "MIG-"))
        assert gpu.memory_total > 2**30
        assert gpu.compute_capability >= ComputeCapability(major=3, minor=5)
        known = knowledge_base().gpu(gpu.name)  # the table must agree with the device itself
        assert known is None or known.cc == gpu.compute_capability, (gpu.name, known)
    assert host_pools(host, knowledge_base())
