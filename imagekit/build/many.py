"""`imagekit build --all DIR`: build every model folder under a directory.

Every model is planned first (`imagekit.build.fleetplan`: the layers they have in common), then
attempted; one that fails is recorded with its one-line error and the others go on. A backend
whose capabilities allow it (oci) builds in a thread pool (`jobs`, default 2): the first model
is built alone so that the shared caches (the base layout, the wheels) are filled once, not
raced for, and each distinct layer is made once across the models (`imagekit.build.fleet`).
The others (docker, buildah) build one model at a time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from imagekit.build.backends import BackendKind, Outputs, Progress, capabilities
from imagekit.build.fleet import FleetLayers, LayerUse
from imagekit.build.fleetplan import FleetPlan, plan_fleet
from imagekit.build.pipeline import build_project
from imagekit.errors import ImagekitError
from imagekit.plan.catalog import Catalog
from imagekit.plan.model import BuildPlan
from imagekit.plan.prepare import check_project, prepared
from imagekit.project.discover import find_models

DEFAULT_JOBS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelBuild:
    """One model's build: its image, or the error that stopped it."""

    name: str  # the model folder, relative to the root
    folder: Path
    seconds: float
    image: str = ""  # the tag
    image_id: str = ""  # the manifest digest (oci) or the daemon's image id (docker)
    size: int = 0
    error: str = ""  # one line; empty when the build succeeded
    layers: tuple[LayerUse, ...] = ()  # the oci backend's layers, and where each came from

    @property
    def ok(self) -> bool:
        return not self.error


def effective_jobs(backend: BackendKind, jobs: int | None) -> int:
    """How many models build at once: `jobs` (default 2) for a backend that builds in
    parallel, 1 for the others."""
    if not capabilities(backend).parallel:
        return 1
    return max(1, jobs or DEFAULT_JOBS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fleet:
    """A `build --all` run: each model's build, and the plan of the layers they share."""

    builds: tuple[ModelBuild, ...]
    plan: FleetPlan


def build_all(
    root: Path,
    *,
    backend: BackendKind,
    jobs: int | None = None,
    progress: Progress,
    catalog: Catalog | None = None,
    no_cache: bool = False,
    cache: str | None = None,
) -> Fleet:
    """Build every model folder under `root`, in the order `find_models` gives.

    Every model is planned first and the layers they share are said (`FleetPlan`); with a
    backend that has a layer cache (oci) each distinct layer is then made once across the
    models, and each build records which layers it made and which it shared. `no_cache`:
    nothing is reused from before this run (layers are still shared within it). `cache`: the
    registry repository every model shares layers and bases through (`build --cache REF`).
    Each progress line is prefixed with the model's name. Raises `InputError` when `root`
    holds no model folder; a model's own failure is in its `ModelBuild.error`.
    """
    folders = find_models(root)
    fleet_plan = plan_fleet(_plans(root, folders, catalog))
    progress(fleet_plan.summary())
    layers = FleetLayers() if capabilities(backend).layer_cache else None
    lock = threading.Lock()

    def one(folder: Path) -> ModelBuild:
        name = _name(root, folder)

        def say(line: str) -> None:
            with lock:  # one line at a time from the pool's threads
                progress(f"{name}: {line}")

        outputs = Outputs(fleet=layers.member(name) if layers else None, cache=cache)
        build = _build_one(folder, name, backend=backend, catalog=catalog, progress=say,
                           outputs=outputs, no_cache=no_cache)  # fmt: skip
        if layers is None or not build.ok:
            return build
        return replace(build, layers=layers.uses(name))

    workers = effective_jobs(backend, jobs)
    if workers == 1 or len(folders) == 1:
        return Fleet(builds=tuple(one(folder) for folder in folders), plan=fleet_plan)
    first = one(folders[0])  # fills the shared base and wheel caches once
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build-") as pool:
        return Fleet(builds=(first, *pool.map(one, folders[1:])), plan=fleet_plan)


def _plans(root: Path, folders: tuple[Path, ...], catalog: Catalog | None) -> dict[str, BuildPlan]:
    """The plans of the models whose checks pass, by the model's name in the run; a model that
    fails them is left out here and fails its build with the same findings."""
    plans: dict[str, BuildPlan] = {}
    for folder in folders:
        try:
            result = check_project(folder, catalog)
            if result.ok:
                plans[_name(root, folder)] = prepared(result).plan
        except ImagekitError:
            continue  # said by its build, which every model gets
    return plans


def _name(root: Path, folder: Path) -> str:
    relative = folder.relative_to(root).as_posix()
    return folder.resolve().name if relative == "." else relative


def _build_one(
    folder: Path,
    name: str,
    *,
    backend: BackendKind,
    catalog: Catalog | None,
    progress: Progress,
    outputs: Outputs,
    no_cache: bool,
) -> ModelBuild:
    start = time.monotonic()
    try:
        outcome = build_project(folder, progress=progress, backend=backend, catalog=catalog,
                                outputs=outputs, no_cache=no_cache)  # fmt: skip
    except ImagekitError as e:
        seconds = time.monotonic() - start
        progress(f"FAILED: {e}")
        return ModelBuild(name=name, folder=folder, seconds=seconds, error=_one_line(e))
    result = outcome.result
    progress(f"built {result.tag} {result.image_id}")
    return ModelBuild(
        name=name,
        folder=folder,
        seconds=time.monotonic() - start,
        image=result.tag,
        image_id=result.image_id,
        size=result.size,
    )


def _one_line(error: ImagekitError) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
