"""Make a BuildPlan from a checked Project: group the locked packages into layers ordered by
how often they change, choose the application files, and set the environment and labels."""

from __future__ import annotations

from pathlib import PurePosixPath

from packaging.utils import NormalizedName

from imagekit import __version__
from imagekit.cuda import cuda_of_packages
from imagekit.image.digest import sha256_file
from imagekit.plan.catalog import BaseImage, ImageSource
from imagekit.plan.model import (
    BUILD_PIP,
    DEFAULT_PATH,
    BaseRef,
    BuildPlan,
    CudaPlan,
    Layer,
    LayerKind,
    PlannedArtifact,
    PlannedFile,
)
from imagekit.project import Project
from imagekit.project.appfiles import select_for_spec
from imagekit.project.lockfile import LockedPackage, PinnedPackage
from imagekit.project.spec import DEFAULT_UID, ModelSpec

# Framework families: each gets a layer of its own, so bumping one does not re-ship another.
FRAMEWORKS: dict[str, frozenset[str]] = {
    "jax": frozenset(
        {
            "jax",
            "jaxlib",
            "jax-cuda12-plugin",
            "jax-cuda12-pjrt",
            "jax-cuda13-plugin",
            "jax-cuda13-pjrt",
        }
    ),
    "onnxruntime": frozenset({"onnxruntime", "onnxruntime-gpu"}),
    "tensorflow": frozenset(
        {
            "tensorflow",
            "tensorflow-cpu",
            "tensorflow-io-gcs-filesystem",
            "tensorboard",
            "tensorboard-data-server",
            "keras",
            "tf-keras",
        }
    ),
    "torch": frozenset({"torch", "torchvision", "torchaudio", "triton", "pytorch-triton"}),
}


def group_of(name: NormalizedName) -> tuple[LayerKind, str]:
    """The layer a Python package belongs in."""
    if name.startswith("nvidia-"):
        return LayerKind.CUDA, "cuda"
    for family, members in FRAMEWORKS.items():
        if name in members:
            return LayerKind.FRAMEWORK, f"framework-{family}"
    return LayerKind.PYTHON, "python"


def _python_layers(packages: tuple[LockedPackage, ...]) -> list[Layer]:
    groups: dict[tuple[LayerKind, str], list[PinnedPackage]] = {}
    for pkg in sorted(packages, key=lambda p: p.name):
        groups.setdefault(group_of(pkg.name), []).append(pkg.pinned())
    order = list(LayerKind)
    keys = sorted(groups, key=lambda k: (order.index(k[0]), k[1]))
    return [Layer(kind=k[0], name=k[1], packages=tuple(groups[k])) for k in keys]


def _artifact_layer(spec: ModelSpec) -> Layer | None:
    if not spec.artifacts:
        return None
    files = tuple(
        PlannedFile(source=a.path.as_posix(), dest=a.dest.as_posix(), sha256=a.sha256)
        for a in sorted(spec.artifacts, key=lambda a: a.dest.as_posix())
    )
    return Layer(kind=LayerKind.ARTIFACTS, name="artifacts", files=files)


def _app_layer(spec: ModelSpec) -> Layer | None:
    chosen = select_for_spec(spec)
    files = tuple(
        PlannedFile(
            source=p.as_posix(),
            dest=(PurePosixPath(spec.workdir) / p).as_posix(),
            sha256=sha256_file(spec.root / p),
        )
        for p in chosen.files
    )
    return Layer(kind=LayerKind.APP, name="app", files=files) if files else None


def _cuda(base: BaseImage, packages: tuple[LockedPackage, ...]) -> CudaPlan | None:
    if base.cuda is not None:
        return CudaPlan(
            version=str(base.cuda.version),
            min_driver=base.cuda.min_driver,
            source=f"base {base.name}",
        )
    return cuda_of_packages(packages)


def _labels(
    spec: ModelSpec,
    base: BaseImage,
    lock_sha: str,
    cuda: CudaPlan | None,
    packages: tuple[LockedPackage, ...] = (),
) -> dict[str, str]:
    labels = {
        "org.opencontainers.image.title": spec.name,
        "org.opencontainers.image.version": spec.version,
        "org.opencontainers.image.base.name": base.local_tag,
        "io.imagekit.version": __version__,
        "io.imagekit.base.name": base.name,
        "io.imagekit.base.recipe-sha256": base.recipe_hash,
        "io.imagekit.lock.sha256": lock_sha,
        "io.imagekit.python": str(base.python.version),
    }
    if isinstance(base.source, ImageSource):
        labels["io.imagekit.base.source"] = base.source.reference
    if spec.description:
        labels["org.opencontainers.image.description"] = spec.description
    if cuda is not None:
        from imagekit.gpu.labels import cuda_labels  # noqa: PLC0415 - CUDA plans only

        labels["io.imagekit.cuda.version"] = cuda.version
        labels["io.imagekit.cuda.min-driver"] = cuda.min_driver
        pinned = ((p.name, str(p.version)) for p in packages if p.version is not None)
        labels.update(cuda_labels(cuda.version, pinned))
    for artifact in spec.artifacts:
        labels[f"io.imagekit.artifact.{artifact.name}.sha256"] = artifact.sha256
    labels.update(spec.labels)  # the author's own labels win
    return dict(sorted(labels.items()))


def _env(spec: ModelSpec, base: BaseImage, cuda: CudaPlan | None) -> dict[str, str]:
    env = {
        "PATH": f"{base.python.venv}/bin:{DEFAULT_PATH}",
        "VIRTUAL_ENV": base.python.venv,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "HOME": f"/home/{spec.user}",
    }
    if cuda is not None:
        # Read by the NVIDIA container runtime: refuse hosts whose driver is too old, admitting
        # those minor version compatibility covers (as `imagekit compat` judges them).
        from imagekit.gpu.labels import require_cuda  # noqa: PLC0415 - CUDA plans only

        env["NVIDIA_REQUIRE_CUDA"] = require_cuda(cuda.version)
        env["NVIDIA_VISIBLE_DEVICES"] = "all"
        env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
    env.update(spec.env)
    return dict(sorted(env.items()))


def make_plan(project: Project, packages: tuple[LockedPackage, ...]) -> BuildPlan:
    """The BuildPlan of a project whose checks passed; `packages`: the lock's packages that
    apply to the target (as the lock check found them)."""
    spec, lock, base = project.spec, project.lock, project.base
    carried = base.package_map()
    from_base = tuple(sorted(p.name for p in packages if p.name in carried))
    to_install = tuple(p for p in packages if p.name not in carried)
    cuda = _cuda(base, packages)
    layers: list[Layer] = []
    if spec.system_packages:
        layers.append(
            Layer(
                kind=LayerKind.SYSTEM,
                name="system",
                system=tuple(sorted(f"{s.name}={s.version}" for s in spec.system_packages)),
            )
        )
    layers.extend(_python_layers(to_install))
    app = _app_layer(spec)
    layers.extend(layer for layer in (_artifact_layer(spec), app) if layer is not None)
    base_ref = BaseRef(
        name=base.name,
        reference=_base_reference(base),
        recipe_sha256=base.recipe_hash,
        digest=None,
        python=base.python.path,
        python_version=str(base.python.version),
        venv=base.python.venv,
        os=f"{base.os.distro} {base.os.release}",
        glibc=base.os.glibc_text,
        apt_source=base.apt_source,
    )
    return BuildPlan(
        name=spec.name,
        version=spec.version,
        description=spec.description,
        platform=spec.platform,
        base=base_ref,
        layers=tuple(layers),
        env=tuple(_env(spec, base, cuda).items()),
        user=spec.user,
        uid=DEFAULT_UID,
        workdir=spec.workdir,
        entrypoint=spec.entrypoint,
        cmd=spec.cmd,
        ports=spec.ports,
        labels=tuple(_labels(spec, base, lock.sha256, cuda, packages).items()),
        lock_file=spec.lockfile.name,
        lock_format=lock.format.value,
        lock_sha256=lock.sha256,
        cuda=cuda,
        datasets=spec.datasets,
        sources=spec.sources,
        artifacts=tuple(
            PlannedArtifact(
                name=a.name,
                path=a.path.as_posix(),
                dest=a.dest.as_posix(),
                sha256=a.sha256,
                card=tuple(sorted(a.card.items())),
            )
            for a in spec.artifacts
        ),
        critical=tuple(sorted(spec.critical)),
        optional=tuple(sorted(spec.optional)),
        from_base=from_base,
        build_tools=(BUILD_PIP,),
    )


def _base_reference(base: BaseImage) -> str:
    """How a Dockerfile names the base: its local tag (imagekit builds every base)."""
    return base.local_tag
