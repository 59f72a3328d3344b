"""CUDA in an image: nvidia-* wheels, a toolkit's version.json, libcudart / libcudnn files, and
frameworks built for a CUDA version (torch 2.5.1+cu124).

Each piece is reported where it was found, with the CUDA version it belongs to: major.minor when
the piece says so, the major alone when that is all it says (nvidia-cudnn-cu12 9.1.0.70 is
cuDNN 9.1 for CUDA 12).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from packaging.version import InvalidVersion, Version

from imagekit.errors import InputError
from imagekit.inventory.layers import Kept, View
from imagekit.inventory.model import CudaComponent, CudaSourceKind, PythonDist
from imagekit.limits import check_version_text, load_json

_TOOLKIT = re.compile(r"^usr/local/cuda[^/]*/version\.(?:json|txt)$")
_LIBRARY = re.compile(r"(?:^|/)lib(?P<name>cudart|cudnn)\.so\.(?P<version>\d+(?:\.\d+)*)$")
_WHEEL = re.compile(r"^nvidia-(?P<component>[a-z0-9-]+?)(?:-cu(?P<major>\d+))?$")
_CUDA_NAMED = re.compile(
    r"-cuda(?P<major>\d+)(?:x|-plugin|-pjrt)?$"
)  # cupy-cuda12x, jax-cuda12-plugin
_LOCAL_CU = re.compile(r"^cu(?P<major>\d+)(?P<minor>\d)$")  # the local version of torch 2.5.1+cu124
_TXT_VERSION = re.compile(r"CUDA Version (?P<version>\d+\.\d+(?:\.\d+)*)")
# Wheels whose own version is the CUDA release they come with (cuda-runtime 12.4.127 is CUDA
# 12.4); the others (cudnn, nccl, cufft...) version themselves.
_TRACKS_CUDA = ("cuda-", "cublas", "nvjitlink", "nvtx")
_LIBRARY_NAMES = {"cuda-runtime": "cudart"}


MAX_VERSION_FILE = 1 << 20  # version.json lists a toolkit's components: a few kB


def wanted(path: str) -> bool | Kept:
    return Kept(limit=MAX_VERSION_FILE) if _TOOLKIT.match(path) else False


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _wheel(dist: PythonDist) -> CudaComponent | None:
    match = _WHEEL.match(dist.name)
    if match is None:
        return None
    component, major = match["component"], match["major"]
    tracks = component.startswith(_TRACKS_CUDA[0]) or component in _TRACKS_CUDA[1:]
    if component == "cublas" and major is None:
        tracks = False  # CUDA 13's cuBLAS numbers itself: nvidia-cublas 13.1.1.3 is CUDA 13.0's
    if major is None and not tracks:
        return None  # nvidia-ml-py and friends: not CUDA
    own = _major_minor(dist.version)
    cuda = own if tracks and (major is None or own.split(".")[0] == major) else major
    return CudaComponent(
        kind=CudaSourceKind.WHEEL,
        name=dist.name,
        version=dist.version,
        cuda_version=cuda or own,
        path=dist.metadata_path,
    )


def _framework(dist: PythonDist) -> CudaComponent | None:
    cuda = None
    try:
        local = Version(dist.version).local
    except InvalidVersion:
        local = None
    if local and (match := _LOCAL_CU.match(local)):
        cuda = f"{match['major']}.{match['minor']}"
    elif named := _CUDA_NAMED.search(dist.name):
        cuda = named["major"]
    if cuda is None:
        return None
    return CudaComponent(
        kind=CudaSourceKind.FRAMEWORK,
        name=dist.name,
        version=dist.version,
        cuda_version=cuda,
        path=dist.metadata_path,
    )


def _toolkit(view: View) -> Iterator[CudaComponent]:
    for entry in view.files(lambda p: bool(_TOOLKIT.match(p))):
        text = (entry.data or b"").decode("utf-8", "replace")
        version = ""
        if entry.path.endswith(".json"):
            try:
                cuda = load_json(text, f"/{entry.path}").get("cuda", {})
                version = str(cuda.get("version", "")) if isinstance(cuda, dict) else ""
                check_version_text(version, f"/{entry.path}")
            except InputError as e:
                view.warn(f"{e}; ignored")
                version = ""
            except AttributeError:
                view.warn(f"/{entry.path}: not the JSON a CUDA toolkit writes; ignored")
        elif match := _TXT_VERSION.search(text):
            version = match["version"]
        if version:
            yield CudaComponent(
                kind=CudaSourceKind.TOOLKIT,
                name="cuda",
                version=version,
                cuda_version=_major_minor(version),
                path="/" + entry.path,
            )


def _owners(python: tuple[PythonDist, ...]) -> dict[str, PythonDist]:
    """Image path -> the distribution whose RECORD lists it (only the nvidia wheels matter)."""
    owners = {}
    for dist in python:
        if dist.name.startswith("nvidia-"):
            for item in dist.record:
                owners[posixpath.normpath(posixpath.join(dist.site_packages, item.path))] = dist
    return owners


def _libraries(view: View, python: tuple[PythonDist, ...]) -> Iterator[CudaComponent]:
    owners = _owners(python)
    for entry in view.files(lambda p: bool(_LIBRARY.search(p))):
        match = _LIBRARY.search(entry.path)
        if match is None:
            continue
        name, version = match["name"], match["version"]
        cuda = _major_minor(version) if name == "cudart" else ""
        owner = owners.get("/" + entry.path)
        if not cuda and owner is not None and (wheel := _WHEEL.match(owner.name)):
            cuda = wheel["major"] or ""
        yield CudaComponent(
            kind=CudaSourceKind.LIBRARY,
            name=name,
            version=version,
            cuda_version=cuda,
            path="/" + entry.path,
        )


def read_cuda(view: View, python: tuple[PythonDist, ...]) -> tuple[CudaComponent, ...]:
    """Every CUDA piece in the image, sorted by kind, name and path."""
    found: list[CudaComponent] = [*_toolkit(view), *_libraries(view, python)]
    for dist in python:
        found.extend(c for c in (_wheel(dist), _framework(dist)) if c is not None)
    return tuple(sorted(found, key=lambda c: (c.kind.value, c.name, c.path)))
