"""Shared test data for the GPU tests: NVML answers recorded from real machines, hand-built
Inventories, pools, and the torch-cu124 lock's real CUDA packages.

NVML recordings: each value is what NVML returns on that GPU and driver, as public `nvidia-smi`
outputs show it (nvidia-smi prints NVML's values; memory in MiB = bytes / 2**20):
- H100 80GB HBM3: "NVIDIA H100 80GB HBM3", 81559MiB, Persistence-M On, MIG M. Disabled
  (nvidia-smi on 545.23.08, 560.35.05 and 570.124.06 hosts); driver 550.54.15 reports
  "CUDA Version: 12.4" (nvidia-smi on A100 80GB PCIe and Tesla T4 hosts with 550.54.15).
- A100-SXM4-40GB: "NVIDIA A100-SXM4-40GB", 40960MiB, Persistence-M Off, MIG M. Disabled
  (nvidia-smi, Colab, 550.54.15); driver 525.85.12 reports "CUDA Version: 12.0".
- A100 80GB PCIe with MIG on: "NVIDIA A100 80GB PCIe", 81920MiB, Persistence-M On,
  MIG M. Enabled, on 550.54.15 (nvidia-smi, a university cluster's GPU guide).
- Tesla T4: "Tesla T4", 15109MiB, Persistence-M On, MIG M. N/A, on 470.82.01 which reports
  "CUDA Version: 11.4" (nvidia-smi in a TensorRT tutorial).
- GeForce RTX 4090: "NVIDIA GeForce RTX 4090", 24564MiB, Persistence-M Off, MIG M. N/A
  (nvidia-smi, 550.90.07); driver 560.35.03 reports "CUDA Version: 12.6".
Compute capabilities: NVIDIA's CUDA GPU table (H100 9.0, A100 8.0, T4 7.5, RTX 4090 8.9).
UUIDs have NVML's format ("GPU-" and a UUID); their digits are not a real device's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pynvml
import pytest

from imagekit.gpu import ComputeCapability, DriverVersion, Pool
from imagekit.inventory.model import (
    CudaComponent,
    CudaSourceKind,
    ImageInfo,
    Inventory,
    PythonDist,
)

MIB = 2**20
SITE = "/opt/venv/lib/python3.11/site-packages"
REPO = Path(__file__).resolve().parents[2]
TORCH = REPO / "tests" / "data" / "projects" / "torch-cu124"
GPU_DATA = REPO / "tests" / "data" / "gpu"


@dataclass(frozen=True)
class RecordedGpu:
    name: str
    uuid: str
    memory_mib: int
    cc: tuple[int, int]
    mig: tuple[int, int] | None  # (current, pending); None: NVML_ERROR_NOT_SUPPORTED
    persistence: int | None  # NVML_FEATURE_ENABLED (1) / DISABLED (0); None: not supported


@dataclass(frozen=True)
class RecordedHost:
    driver: str
    cuda: int  # nvmlSystemGetCudaDriverVersion(_v2)
    gpus: tuple[RecordedGpu, ...] = field(default=())


H100 = RecordedGpu(
    "NVIDIA H100 80GB HBM3", "GPU-5c1e2a7e-3f4b-4c1d-9a2e-1b7f0c3d4e5f", 81559, (9, 0), (0, 0), 1
)
A100 = RecordedGpu(
    "NVIDIA A100-SXM4-40GB", "GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", 40960, (8, 0), (0, 0), 0
)
A100_MIG = RecordedGpu(
    "NVIDIA A100 80GB PCIe", "GPU-7d6c5b4a-3e2f-4d1c-8b0a-9f8e7d6c5b4a", 81920, (8, 0), (1, 1), 1
)
T4 = RecordedGpu("Tesla T4", "GPU-1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b", 15109, (7, 5), None, 1)
RTX_4090 = RecordedGpu(
    "NVIDIA GeForce RTX 4090", "GPU-9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", 24564, (8, 9), None, 0
)

# Cloud GPUs, named and sized as public `nvidia-smi --query-gpu=name,memory.total,compute_cap`
# outputs show them: "NVIDIA A10G, 23028 MiB, 8.6"; "Tesla V100S-PCIE-32GB ... 7.0";
# "NVIDIA H800 PCIe, 81559 MiB" with torch capability (9, 0); "NVIDIA L20, 46068 MiB, 8.9".
A10G = RecordedGpu(
    "NVIDIA A10G", "GPU-2b3c4d5e-6f70-4a81-92b3-c4d5e6f70819", 23028, (8, 6), None, 1
)
V100S = RecordedGpu(
    "Tesla V100S-PCIE-32GB", "GPU-3c4d5e6f-7081-4b92-a3c4-d5e6f7081920", 32768, (7, 0), None, 1
)
H800 = RecordedGpu(
    "NVIDIA H800 PCIe", "GPU-4d5e6f70-8192-4ca3-b4d5-e6f708192a3b", 81559, (9, 0), (0, 0), 1
)
L20 = RecordedGpu("NVIDIA L20", "GPU-5e6f7081-92a3-4db4-c5e6-f708192a3b4c", 46068, (8, 9), None, 1)

HOSTS = {
    "cloud-580": RecordedHost("580.82.07", 13000, (A10G, V100S, H800, L20)),
    "h100-550": RecordedHost("550.54.15", 12040, (H100, H100)),
    "a100-525": RecordedHost("525.85.12", 12000, (A100,)),
    "a100-mig-550": RecordedHost("550.54.15", 12040, (A100_MIG,)),
    "t4-470": RecordedHost("470.82.01", 11040, (T4,)),
    "rtx4090-560": RecordedHost("560.35.03", 12060, (RTX_4090,)),
}


def pool(
    name: str,
    driver: str,
    cc: str,
    gpu: str | None = None,
    *,
    datacenter: bool = True,
    cuda_compat: bool = False,
) -> Pool:
    return Pool(
        name=name,
        driver=DriverVersion.parse(driver),
        cc=ComputeCapability.parse(cc),
        gpu=gpu,
        datacenter=datacenter,
        cuda_compat=cuda_compat,
    )


def dist(name: str, version: str, requires: tuple[str, ...] = ()) -> PythonDist:
    info = f"{SITE}/{name.replace('-', '_')}-{version}.dist-info"
    return PythonDist(
        name=name,
        raw_name=name,
        version=version,
        site_packages=SITE,
        metadata_path=info,
        license_expression=None,
        license_texts=(),
        requires_dist=requires,
        record=(),
        direct_url=None,
        installer="pip",
    )


def component(kind: CudaSourceKind, name: str, version: str, cuda: str, path: str) -> CudaComponent:
    return CudaComponent(kind=kind, name=name, version=version, cuda_version=cuda, path=path)


def wheel(dist_: PythonDist, cuda: str) -> CudaComponent:
    return component(CudaSourceKind.WHEEL, dist_.name, dist_.version, cuda, dist_.metadata_path)


def inventory(
    python: tuple[PythonDist, ...] = (),
    cuda: tuple[CudaComponent, ...] = (),
    reference: str = "model:1.0",
) -> Inventory:
    return Inventory(
        image=ImageInfo(
            reference=reference,
            digest=None,
            config_digest=None,
            architecture="amd64",
            os="linux",
            labels={},
            layers=(),
            base_name=None,
            base_digest=None,
        ),
        os_release=None,
        debs=(),
        python=python,
        cuda=cuda,
        artifacts=(),
        data=(),
        plan=None,
    )


# torch 2.5.1 from PyPI, as its METADATA pins its CUDA wheels (the torch-cu124 lock resolved
# exactly these versions from it).
TORCH_251_REQUIRES = (
    "filelock",
    "typing-extensions>=4.8.0",
    'nvidia-cuda-nvrtc-cu12==12.4.127; platform_system == "Linux" and platform_machine == "x86_64"',
    'nvidia-cuda-runtime-cu12==12.4.127; platform_system == "Linux" and platform_machine == "x86_64"',
    'nvidia-cuda-cupti-cu12==12.4.127; platform_system == "Linux" and platform_machine == "x86_64"',
    'nvidia-cudnn-cu12==9.1.0.70; platform_system == "Linux" and platform_machine == "x86_64"',
    'nvidia-cublas-cu12==12.4.5.8; platform_system == "Linux" and platform_machine == "x86_64"',
    'triton==3.1.0; platform_system == "Linux" and platform_machine == "x86_64" and python_version < "3.13"',
)
CUDA_WHEELS_124 = (
    dist("nvidia-cublas-cu12", "12.4.5.8"),
    dist("nvidia-cuda-cupti-cu12", "12.4.127"),
    dist("nvidia-cuda-nvrtc-cu12", "12.4.127"),
    dist("nvidia-cuda-runtime-cu12", "12.4.127"),
    dist("nvidia-cudnn-cu12", "9.1.0.70"),
)


def torch_124_inventory(reference: str = "torch-classifier:0.3.0") -> Inventory:
    """The torch-cu124 project's image as the Inventory describes it: PyPI's torch 2.5.1 and
    its CUDA 12.4 wheels."""
    torch = dist("torch", "2.5.1", TORCH_251_REQUIRES)
    python = (*CUDA_WHEELS_124, torch)
    cuda = tuple(wheel(d, "12.4" if "cudnn" not in d.name else "12") for d in CUDA_WHEELS_124)
    return inventory(python, cuda, reference)


def write_rootfs(root: Path, dists: tuple[PythonDist, ...]) -> Path:
    """A root file system holding the dists' METADATA (what `imagekit compat` reads)."""
    for d in dists:
        info = root / d.metadata_path.lstrip("/")
        info.mkdir(parents=True, exist_ok=True)
        lines = ["Metadata-Version: 2.1", f"Name: {d.raw_name}", f"Version: {d.version}"]
        lines += [f"Requires-Dist: {r}" for r in d.requires_dist]
        (info / "METADATA").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
        (info / "RECORD").write_text("", encoding="utf-8")
    return root


class FakeNvml:
    """pynvml's functions answering as a recorded host; counts init and shutdown."""

    def __init__(self, host: RecordedHost) -> None:
        self.host = host
        self.inits = 0
        self.shutdowns = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        answers: dict[str, Callable[..., Any]] = {
            "nvmlInit": self.init,
            "nvmlShutdown": self.shutdown,
            "nvmlSystemGetDriverVersion": lambda: self.host.driver,
            "nvmlSystemGetCudaDriverVersion_v2": lambda: self.host.cuda,
            "nvmlDeviceGetCount": lambda: len(self.host.gpus),
            "nvmlDeviceGetHandleByIndex": lambda i: self.host.gpus[i],
            "nvmlDeviceGetName": lambda g: g.name,
            "nvmlDeviceGetUUID": lambda g: g.uuid,
            "nvmlDeviceGetMemoryInfo": self.memory,
            "nvmlDeviceGetCudaComputeCapability": lambda g: g.cc,
            "nvmlDeviceGetMigMode": lambda g: list(g.mig) if g.mig else self.unsupported(),
            "nvmlDeviceGetPersistenceMode": lambda g: (
                g.persistence if g.persistence is not None else self.unsupported()
            ),
        }
        for name, fn in answers.items():
            monkeypatch.setattr(pynvml, name, fn)

    def init(self) -> None:
        self.inits += 1

    def shutdown(self) -> None:
        self.shutdowns += 1

    @staticmethod
    def memory(gpu: Any) -> Any:
        total = gpu.memory_mib * MIB
        return pynvml.c_nvmlMemory_t(total=total, free=total, used=0)

    @staticmethod
    def unsupported() -> Any:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)


def fake(monkeypatch: pytest.MonkeyPatch, host: str) -> FakeNvml:
    nvml = FakeNvml(HOSTS[host])
    nvml.install(monkeypatch)
    return nvml


METADATA = GPU_DATA / "metadata"  # real METADATA of PyPI wheels, see its README.md


def metadata_rootfs(root: Path, *names: str) -> Path:
    """A root file system holding the real METADATA files `names` (`torch-2.13.0`, ...) of
    tests/data/gpu/metadata, each in the dist-info folder pip gives it."""
    for name in names:
        text = (METADATA / f"{name}.METADATA").read_text(encoding="utf-8")
        fields = dict(
            line.split(": ", 1)
            for line in text.splitlines()
            if line.startswith(("Name:", "Version:"))
        )
        folder = f"{fields['Name'].replace('-', '_')}-{fields['Version']}.dist-info"
        info = root / SITE.lstrip("/") / folder
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(text, encoding="utf-8")
        (info / "RECORD").write_text("", encoding="utf-8")
        (info / "INSTALLER").write_text("pip\n", encoding="utf-8")
    return root


# What `pip install torch==2.13.0` installs on Linux x86_64 from PyPI: torch, the cuda-toolkit
# metapackage and the component wheels its extras pin, and the -cu13 wheels torch pins itself.
TORCH_2_13_CUDA = (
    "torch-2.13.0",
    "cuda-toolkit-13.0.3",
    "nvidia-cublas-13.1.1.3",
    "nvidia-cuda-cupti-13.0.85",
    "nvidia-cuda-nvrtc-13.0.88",
    "nvidia-cuda-runtime-13.0.96",
    "nvidia-cufft-12.0.0.61",
    "nvidia-cufile-1.15.1.6",
    "nvidia-curand-10.4.0.35",
    "nvidia-cusolver-12.0.4.66",
    "nvidia-cusparse-12.6.3.3",
    "nvidia-nvtx-13.0.85",
    "nvidia-cudnn-cu13-9.20.0.48",
    "nvidia-cusparselt-cu13-0.8.1",
    "nvidia-nccl-cu13-2.29.7",
    "nvidia-nvshmem-cu13-3.4.5",
)
