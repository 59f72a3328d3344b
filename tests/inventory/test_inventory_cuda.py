"""CUDA found in wheels, toolkits, library files and frameworks."""

from __future__ import annotations

import base64
import hashlib
import json

from _inventory_helpers import file, layer, symlink, view_of

from imagekit.inventory.cuda import read_cuda
from imagekit.inventory.model import CudaSourceKind
from imagekit.inventory.python import read_python

SITE = "opt/venv/lib/python3.11/site-packages"


def wheel(name: str, version: str, *owned: tuple[str, bytes]) -> list[tuple[str, bytes]]:
    """The files of an installed wheel: METADATA, a RECORD listing `owned`, and `owned`."""
    directory = f"{SITE}/{name.replace('-', '_')}-{version}.dist-info"
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for path, data in owned
    )
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    return [
        (f"{directory}/METADATA", metadata.encode()),
        (f"{directory}/RECORD", record.encode()),
        *((f"{SITE}/{path}", data) for path, data in owned),
    ]


def test_cuda_from_wheels_frameworks_toolkit_and_libraries() -> None:
    members = [
        *wheel(
            "nvidia-cuda-runtime-cu12",
            "12.4.127",
            ("nvidia/cuda_runtime/lib/libcudart.so.12", b"rt"),
        ),
        *wheel("nvidia-cudnn-cu12", "9.1.0.70", ("nvidia/cudnn/lib/libcudnn.so.9", b"dnn")),
        *wheel("nvidia-cublas-cu12", "12.4.5.8"),
        *wheel("nvidia-ml-py", "12.560.30"),  # NVML bindings: not CUDA
        *wheel("torch", "2.5.1+cu124"),
        *wheel("cupy-cuda12x", "13.3.0"),
        *wheel("numpy", "2.1.3"),
    ]
    view = view_of(
        layer(
            *(file(path, data) for path, data in members),
            file(
                "usr/local/cuda-12.4/version.json",
                json.dumps({"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}),
            ),
            symlink("usr/local/cuda", "cuda-12.4"),
            file("usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so.12.4.127", "rt"),
            symlink(
                "usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so.12",
                "libcudart.so.12.4.127",
            ),
            file("usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.7", "dnn8"),
            file("usr/lib/x86_64-linux-gnu/libcudnn_ops_infer.so.8.9.7", "sub-library"),
        )
    )
    found = {
        (c.kind, c.name, c.path): (c.version, c.cuda_version)
        for c in read_cuda(view, read_python(view))
    }
    dist = f"/{SITE}"
    assert found == {
        (CudaSourceKind.FRAMEWORK, "cupy-cuda12x", f"{dist}/cupy_cuda12x-13.3.0.dist-info"): (
            "13.3.0",
            "12",
        ),
        (CudaSourceKind.FRAMEWORK, "torch", f"{dist}/torch-2.5.1+cu124.dist-info"): (
            "2.5.1+cu124",
            "12.4",
        ),
        (CudaSourceKind.LIBRARY, "cudart", f"{dist}/nvidia/cuda_runtime/lib/libcudart.so.12"): (
            "12",
            "12",
        ),
        (
            CudaSourceKind.LIBRARY,
            "cudart",
            "/usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so.12.4.127",
        ): ("12.4.127", "12.4"),
        (CudaSourceKind.LIBRARY, "cudnn", f"{dist}/nvidia/cudnn/lib/libcudnn.so.9"): ("9", "12"),
        (CudaSourceKind.LIBRARY, "cudnn", "/usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.7"): (
            "8.9.7",
            "",
        ),
        (CudaSourceKind.TOOLKIT, "cuda", "/usr/local/cuda-12.4/version.json"): ("12.4.1", "12.4"),
        (
            CudaSourceKind.WHEEL,
            "nvidia-cublas-cu12",
            f"{dist}/nvidia_cublas_cu12-12.4.5.8.dist-info",
        ): ("12.4.5.8", "12.4"),
        (
            CudaSourceKind.WHEEL,
            "nvidia-cuda-runtime-cu12",
            f"{dist}/nvidia_cuda_runtime_cu12-12.4.127.dist-info",
        ): ("12.4.127", "12.4"),
        (
            CudaSourceKind.WHEEL,
            "nvidia-cudnn-cu12",
            f"{dist}/nvidia_cudnn_cu12-9.1.0.70.dist-info",
        ): ("9.1.0.70", "12"),
    }


def test_old_toolkit_version_txt() -> None:
    view = view_of(layer(file("usr/local/cuda-11.0/version.txt", "CUDA Version 11.0.228\n")))
    [toolkit] = read_cuda(view, ())
    assert (toolkit.version, toolkit.cuda_version) == ("11.0.228", "11.0")


def test_no_cuda() -> None:
    view = view_of(layer(file("usr/lib/libc.so.6", "c")))
    assert read_cuda(view, ()) == ()


def test_cuda_13_wheels_without_the_suffix() -> None:
    """CUDA 13 wheels drop -cuNN. The runtime, nvJitLink and NVTX carry their release in their
    version; cuBLAS (13.1.1.3 in CUDA 13.0) and cuFFT (12.0.0.61) number themselves, so the
    reader claims no CUDA version for them (compat maps them through the cuda-toolkit pins)."""
    members = [
        *wheel("nvidia-cuda-runtime", "13.0.96"),
        *wheel("nvidia-nvjitlink", "13.5.37"),
        *wheel("nvidia-cublas", "13.1.1.3"),
        *wheel("nvidia-cufft", "12.0.0.61"),
    ]
    view = view_of(layer(*(file(path, data) for path, data in members)))
    found = {c.name: c.cuda_version for c in read_cuda(view, read_python(view))}
    assert found == {"nvidia-cuda-runtime": "13.0", "nvidia-nvjitlink": "13.5"}
