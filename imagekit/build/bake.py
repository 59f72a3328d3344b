"""A `docker buildx bake` file for many models, so BuildKit's remote or Kubernetes builders can
build every model from the same plans and contexts imagekit would build locally.

Each model's build context (Dockerfile, verified wheels, artifacts, application code, plan) is
assembled into `<model>/.imagekit/bake-context/`. Bases are imagekit's local tags; with a base
registry, each target maps its base to `docker-image://REGISTRY/<tag>` through a named context,
so remote builders pull the base the platform team pushed there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.build.context import assemble
from imagekit.errors import ErrorCollector
from imagekit.fsio import write_json
from imagekit.image.layout import staged_dir
from imagekit.plan.catalog import Catalog
from imagekit.plan.model import BuildPlan
from imagekit.plan.prepare import check_project, prepared
from imagekit.project.discover import find_models

CONTEXT_DIR = "bake-context"


@dataclass(frozen=True, slots=True, kw_only=True)
class BakeTarget:
    name: str
    project: Path
    context: Path
    plan: BuildPlan


def plan_all(
    root: Path, catalog: Catalog | None = None, *, cache_dir: Path | None = None
) -> tuple[tuple[Path, BuildPlan], ...]:
    """Check and plan every model under `root` with the checks `imagekit check` and `build`
    run; raises `FindingsError` with every model's findings together when any model fails
    its checks or two models share an image name."""
    collector = ErrorCollector()
    planned: list[tuple[Path, BuildPlan]] = []
    names: dict[str, Path] = {}
    for project in find_models(root):
        result = check_project(project, catalog, cache_dir=cache_dir)
        for finding in result.findings:
            collector.add(finding)
        if not result.ok:
            continue
        plan = prepared(result).plan
        if plan.name in names:
            collector.error(
                result.spec.location("name"),
                "duplicate-model",
                f"image name {plan.name!r} is also used by {names[plan.name]}",
                "give every model its own name",
            )
            continue
        names[plan.name] = project
        planned.append((project, plan))
    collector.raise_if_errors()
    return tuple(planned)


def assemble_target(project: Path, plan: BuildPlan, *, cache_dir: Path | None = None) -> Path:
    """Assemble the model's context into `<project>/.imagekit/bake-context/` (replaced whole)."""
    out_dir = project / ".imagekit"
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / CONTEXT_DIR
    with staged_dir(final) as staging:  # a killed run's staging folder goes with the next
        assemble(plan, project, staging, cache_dir=cache_dir)
    return final


def bake_document(
    targets: list[BakeTarget], relative_to: Path, base_registry: str | None = None
) -> dict[str, Any]:
    """The bake file (buildx's JSON form) for `targets`, paths relative to the file's folder."""
    entries: dict[str, Any] = {}
    for target in sorted(targets, key=lambda t: t.name):
        entry: dict[str, Any] = {
            "context": _relative(target.context, relative_to),
            "dockerfile": "Dockerfile",
            "tags": [target.plan.image_ref],
            "platforms": [target.plan.platform],
            "network": "none",  # hermetic: every input is in the context
        }
        if base_registry:
            base = target.plan.base.reference
            entry["contexts"] = {base: f"docker-image://{base_registry.rstrip('/')}/{base}"}
        entries[target.name] = entry
    return {"group": {"default": {"targets": sorted(entries)}}, "target": entries}


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve())


def write_bake(
    root: Path,
    output: Path,
    *,
    base_registry: str | None = None,
    catalog: Catalog | None = None,
    cache_dir: Path | None = None,
) -> tuple[BakeTarget, ...]:
    """Plan every model under `root`, assemble their contexts and write the bake file."""
    targets = [
        BakeTarget(
            name=plan.name,
            project=project,
            plan=plan,
            context=assemble_target(project, plan, cache_dir=cache_dir),
        )
        for project, plan in plan_all(root, catalog, cache_dir=cache_dir)
    ]
    document = bake_document(targets, output.parent, base_registry)
    write_json(output, document)
    return tuple(targets)
