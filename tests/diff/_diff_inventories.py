"""Two hand-built Inventories, before and after an update, with one change of each kind.

Versions and licences are real (the packages' own METADATA, Debian 12's dpkg status).
"""

from __future__ import annotations

from dataclasses import replace

from imagekit.inventory.model import (
    CudaComponent,
    CudaSourceKind,
    DebPackage,
    ImageInfo,
    Inventory,
    ModelArtifact,
    OsRelease,
    PythonDist,
)
from imagekit.plan.stored import StoredPlan, read_stored_plan

VENV = "/opt/venv/lib/python3.11/site-packages"
SYSTEM = "/usr/lib/python3/dist-packages"
OLD_MODEL = "2bc8aa3e027bcbcf014ac20f0f3b23556979458677ac80a18dfd8e0554897ee9"
NEW_MODEL = "0c1f2e8d5b7a9c3e4f6a8b0d2c4e6f8a1b3d5f7e9a0c2e4f6a8b0d2c4e6f8a1b"
BSD = "License :: OSI Approved :: BSD License"


def dist(name: str, version: str, *, site: str = VENV, expression: str | None = None) -> PythonDist:
    return PythonDist(
        name=name,
        raw_name=name,
        version=version,
        site_packages=site,
        metadata_path=f"{site}/{name.replace('-', '_')}-{version}.dist-info",
        license_expression=expression,
        license_texts=(),
        requires_dist=(),
        record=(),
        direct_url=None,
        installer="pip",
    )


def deb(name: str, version: str, *, licences: tuple[str, ...] = ()) -> DebPackage:
    return DebPackage(
        name=name,
        version=version,
        architecture="amd64",
        source_name=name,
        source_version=version,
        depends=(),
        licenses=licences,
        copyright_file=None,
    )


def _cuda(version: str, cuda: str) -> CudaComponent:
    return CudaComponent(
        kind=CudaSourceKind.WHEEL,
        name="nvidia-cuda-runtime-cu12",
        version=version,
        cuda_version=cuda,
        path=f"{VENV}/nvidia_cuda_runtime_cu12-{version}.dist-info",
    )


def _plan(cuda: str, driver: str) -> StoredPlan:
    return read_stored_plan(
        {
            "schema": 1,
            "cuda": {"version": cuda, "min_driver": driver, "source": "nvidia-cuda-runtime-cu12"},
            "critical": ["numpy", "pydantic"],
            "optional": [],
        }
    )


def _image(reference: str) -> ImageInfo:
    return ImageInfo(
        reference=reference,
        digest=None,
        config_digest=None,
        architecture="amd64",
        os="linux",
        labels={},
        layers=(),
        base_name="debian-bookworm-py311",
        base_digest=None,
    )


def _artifact(sha: str) -> ModelArtifact:
    return ModelArtifact(
        name="classifier",
        path="/opt/model/classifier.joblib",
        recorded_sha256=sha,
        actual_sha256=sha,
        size=2263,
    )


def before() -> Inventory:
    return Inventory(
        image=_image("model:1.0.0"),
        os_release=OsRelease(
            id="debian", version_id="12", codename="bookworm", pretty_name="Debian 12"
        ),
        debs=(
            deb("libc6", "2.36-9+deb12u9", licences=("LGPL-2.1-or-later",)),
            deb("tzdata", "2024a-0+deb12u1"),
            deb("libgomp1", "12.2.0-14"),
        ),
        python=(
            dist("numpy", "2.3.5", expression="BSD-3-Clause"),
            dist("numpy", "1.24.2", site=SYSTEM),  # Debian's python3-numpy: unchanged
            dist("pydantic", "1.10.13", expression="MIT"),
            dist("click", "7.1.2", expression="BSD-3-Clause"),
            dist("requests", "2.31.0", expression="Apache-2.0"),
            dist("six", "1.16.0", expression="MIT"),
            dist("attrs", "23.2.0", expression="MIT"),
            dist("nvidia-cuda-runtime-cu12", "12.4.127"),
        ),
        cuda=(_cuda("12.4.127", "12.4"),),
        artifacts=(_artifact(OLD_MODEL),),
        data=(),
        plan=_plan("12.4", "550.54.14"),
    )


def after() -> Inventory:
    """numpy 2.3.5 -> 2.4.1 (numeric-risk), libc6 updated (numeric-risk: libm), libgomp1
    removed (numeric-risk), pydantic 1 -> 2 (a direct dependency: behaviour), click 7 -> 8
    (major: behaviour), requests 2.31 -> 2.32 (benign), six removed and packaging added
    (benign), attrs relicensed (licence: behaviour), tzdata (benign), CUDA 12.4 -> 12.6
    (numeric-risk) with a new driver floor (behaviour), a new model file (numeric-risk)."""
    old = before()
    return replace(
        old,
        image=_image("model:1.1.0"),
        debs=(
            deb("libc6", "2.36-9+deb12u10", licences=("LGPL-2.1-or-later",)),
            deb("tzdata", "2025b-0+deb12u1"),
        ),
        python=(
            dist("numpy", "2.4.1", expression="BSD-3-Clause"),
            dist("numpy", "1.24.2", site=SYSTEM),
            dist("pydantic", "2.5.0", expression="MIT"),
            dist("click", "8.1.7", expression="BSD-3-Clause"),
            dist("requests", "2.32.3", expression="Apache-2.0"),
            dist("packaging", "24.2", expression="Apache-2.0 OR BSD-2-Clause"),
            dist("attrs", "23.2.0", expression="Apache-2.0"),
            dist("nvidia-cuda-runtime-cu12", "12.6.77"),
        ),
        cuda=(_cuda("12.6.77", "12.6"),),
        artifacts=(_artifact(NEW_MODEL),),
        plan=_plan("12.6", "560.28.03"),
    )
