"""Hand-built Inventories with real package data (the iris example's wheels, Debian 12's glibc),
until the image readers produce them; and one with CUDA."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from imagekit.inventory.model import (
    CudaComponent,
    CudaSourceKind,
    DataSource,
    DebPackage,
    FileHash,
    ImageInfo,
    Inventory,
    ModelArtifact,
    OsRelease,
    PythonDist,
)
from imagekit.plan.stored import StoredPlan, read_stored_plan

SITE = "/opt/venv/lib/python3.11/site-packages"
IMAGE_DIGEST = "sha256:4a1d5c07e0d2bd5a0f1e3b6f8f1f2cbb0d7d38f4e4a2f8d2b1b6c3f0e9a8d7c6"
CONFIG_DIGEST = "sha256:50bbe6e89117a3d61b4e2a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"
BASE_DIGEST = "sha256:c2419cb7e2c4f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6"
MODEL_SHA = "2bc8aa3e027bcbcf014ac20f0f3b23556979458677ac80a18dfd8e0554897ee9"
IRIS_CSV_SHA = "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"
CUDART_WHEEL_SHA = "64403288fa2136ee8e467cdc9c9427e0434110899d07c779f25b5c068934faa5"
BSD = "License :: OSI Approved :: BSD License"


def deb(
    name: str,
    version: str,
    *,
    source: str | None = None,
    source_version: str | None = None,
    depends: tuple[str, ...] = (),
    licenses: tuple[str, ...] = (),
) -> DebPackage:
    return DebPackage(
        name=name,
        version=version,
        architecture="amd64",
        source_name=source or name,
        source_version=source_version or version,
        depends=depends,
        licenses=licenses,
        copyright_file=f"/usr/share/doc/{name}/copyright",
    )


def dist(
    raw_name: str,
    version: str,
    *,
    expression: str | None = None,
    texts: tuple[str, ...] = (),
    requires: tuple[str, ...] = (),
    site: str = SITE,
    record: tuple[FileHash, ...] = (),
) -> PythonDist:
    name = raw_name.lower().replace("_", "-")
    info = f"{site}/{raw_name.replace('-', '_')}-{version}.dist-info"
    return PythonDist(
        name=name,
        raw_name=raw_name,
        version=version,
        site_packages=site,
        metadata_path=info,
        license_expression=expression,
        license_texts=texts,
        requires_dist=requires,
        record=record,
        direct_url=None,
        installer="pip",
    )


DEBS = (
    deb(
        "gcc-12-base",
        "12.2.0-14",
        source="gcc-12",
        licenses=("GPL-3.0-or-later WITH GCC-exception-3.1",),
    ),
    deb(
        "libc6",
        "2.36-9+deb12u10",
        source="glibc",
        depends=("libgcc-s1",),
        licenses=("LGPL-2.1-or-later", "GPL-2.0-or-later"),
    ),
    deb(
        "libgcc-s1",
        "12.2.0-14",
        source="gcc-12",
        depends=("gcc-12-base", "libc6"),
        licenses=("GPL-3.0-or-later WITH GCC-exception-3.1",),
    ),
    deb("tzdata", "2025b-0+deb12u1", licenses=("public-domain",)),
)

PYTHON = (
    dist("joblib", "1.5.2", texts=("BSD 3-Clause", BSD)),
    dist("numpy", "2.3.5", texts=("Copyright (c) 2005-2025, NumPy Developers.", BSD)),
    dist(
        "scikit-learn",
        "1.7.2",
        expression="BSD-3-Clause",
        requires=(
            "numpy>=1.22.0",
            "scipy>=1.8.0",
            "joblib>=1.2.0",
            "threadpoolctl>=3.1.0",
            'pandas>=1.4.0; extra == "benchmark"',
            'pytest>=7.1.2; extra == "tests"',
        ),
    ),
    dist(
        "scipy",
        "1.16.3",
        texts=("Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy Developers.", BSD),
        requires=(
            "numpy<2.6,>=1.25.2",
            'threadpoolctl; extra == "test"',
            'ninja; sys_platform != "emscripten" and extra == "test"',
        ),
    ),
    dist("threadpoolctl", "3.6.0", texts=("BSD-3-Clause", BSD)),
)

IRIS_CARD = {
    "task": "classification",
    "framework": "scikit-learn",
    "license": "BSD-3-Clause",
    "description": "StandardScaler + LogisticRegression(lbfgs, max_iter=1000) fitted on all 150 rows of the iris data bundled in scikit-learn 1.7.2.",
}


def _plan(*, cuda: bool) -> StoredPlan:
    packages: list[dict[str, Any]] = [
        {
            "name": p.name,
            "version": p.version,
            "sha256": ["0" * 63 + "1", "0" * 63 + "2"],
            "filenames": [],
        }
        for p in PYTHON
    ]
    layers: list[dict[str, Any]] = [
        {"kind": "python", "name": "python", "packages": packages, "files": [], "system": []}
    ]
    if cuda:
        wheel = {
            "name": "nvidia-cuda-runtime-cu12",
            "version": "12.4.127",
            "sha256": [CUDART_WHEEL_SHA],
            "filenames": ["nvidia_cuda_runtime_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl"],
        }
        layers.insert(
            0, {"kind": "cuda", "name": "cuda", "packages": [wheel], "files": [], "system": []}
        )
    return read_stored_plan(
        {
            "schema": 1,
            "name": "iris-classifier",
            "version": "1.0.0",
            "base": {
                "name": "debian-bookworm-py311",
                "python_version": "3.11.2",
                "venv": "/opt/venv",
            },
            "layers": layers,
            "cuda": (
                {
                    "version": "12.4",
                    "min_driver": "550.54.14",
                    "source": "nvidia-cuda-runtime-cu12==12.4.127",
                }
                if cuda
                else None
            ),
            "critical": ["numpy", "scikit-learn", "scipy"],
            "optional": ["threadpoolctl"],
        }
    )


def iris() -> Inventory:
    """The iris example as an image: Debian 12, scikit-learn 1.7.2, one model, one dataset."""
    return Inventory(
        image=ImageInfo(
            reference="iris-classifier:1.0.0",
            digest=IMAGE_DIGEST,
            config_digest=CONFIG_DIGEST,
            architecture="amd64",
            os="linux",
            labels={
                "org.opencontainers.image.title": "iris-classifier",
                "org.opencontainers.image.version": "1.0.0",
                "org.opencontainers.image.description": "Iris species classifier",
            },
            layers=(BASE_DIGEST, CONFIG_DIGEST),
            base_name="debian-bookworm-py311",
            base_digest=BASE_DIGEST,
        ),
        os_release=OsRelease(
            id="debian",
            version_id="12",
            codename="bookworm",
            pretty_name="Debian GNU/Linux 12 (bookworm)",
        ),
        debs=DEBS,
        python=PYTHON,
        cuda=(),
        artifacts=(
            ModelArtifact(
                name="iris-classifier",
                path="/opt/model/iris.joblib",
                recorded_sha256=MODEL_SHA,
                actual_sha256=MODEL_SHA,
                size=2263,
                card=IRIS_CARD,
            ),
        ),
        data=(
            DataSource(
                kind="dataset",
                name="iris",
                uri="https://archive.ics.uci.edu/dataset/53/iris",
                version="1988",
                sha256=IRIS_CSV_SHA,
            ),
            DataSource(
                kind="source",
                name="scikit-learn",
                uri="https://github.com/scikit-learn/scikit-learn",
                version="1.7.2",
            ),
        ),
        plan=_plan(cuda=False),
        warnings=(
            "/usr/share/doc/tzdata/copyright: not machine-readable; licence names as written",
        ),
    )


CUDART_LIB = "nvidia/cuda_runtime/lib/libcudart.so.12"


def iris_cuda() -> Inventory:
    """The same with the CUDA 12.4 runtime wheel, as torch-cu124 images carry it."""
    base = iris()
    wheel = dist(
        "nvidia-cuda-runtime-cu12",
        "12.4.127",
        texts=("NVIDIA Proprietary Software", "License :: Other/Proprietary License"),
        record=(FileHash(path=CUDART_LIB, sha256="9" * 64),),
    )
    cuda = (
        CudaComponent(
            kind=CudaSourceKind.WHEEL,
            name="nvidia-cuda-runtime-cu12",
            version="12.4.127",
            cuda_version="12.4",
            path=wheel.metadata_path,
        ),
        CudaComponent(
            kind=CudaSourceKind.LIBRARY,
            name="cudart",
            version="12.4.127",
            cuda_version="12.4",
            path=f"{SITE}/{CUDART_LIB}",
        ),
    )
    return replace(
        base,
        image=replace(base.image, reference="registry.example.com/ml/iris-classifier:1.0.0-cu124"),
        python=(*base.python, wheel),
        cuda=cuda,
        plan=_plan(cuda=True),
    )
