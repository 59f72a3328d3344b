"""A `docker buildx bake` file for many models, so BuildKit's remote or Kubernetes builders can
build every model from the same plans and contexts imagekit would build locally.

Each model's build context (Dockerfile, verified wheels, artifacts, application code, plan) is
assembled into `<model>/.imagekit/bake-context/`. Bases are imagekit's local tags; with a base
registry, each target maps its base to `docker-image://REGISTRY/<tag>` through a named context,
so remote builders pull the base the platform team pushed there.

With a cache repository (`--cache REF`, the repository `build --cache` shares layers through),
each target exports BuildKit's cache to its own tag `REF:bake-<target>` (`cache-to`
`type=registry,mode=max`: every layer, not only the final image's) and imports its own and
those of every target on the same base (`cache-from`): the models' Dockerfiles share their base
and their first layers, so a builder reuses what another target's builder exported. One tag per
target, because a registry cache export replaces its tag whole: targets exporting to one tag
at once would keep only the last one's layers. With `attest`, each target asks BuildKit for
SLSA provenance (`mode=max`) and its SBOM (`type=sbom`, made by BuildKit's scanner); see the
README for what that SBOM holds against imagekit's. The document is checked against the
attributes buildx reads (`imagekit.build.bakefile`) before it is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imagekit.build.bakefile import validate_bake
from imagekit.build.context import assemble
from imagekit.build.oci.regcache import cache_reference
from imagekit.errors import ErrorCollector, InputError
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


@dataclass(frozen=True, slots=True, kw_only=True)
class BakeOptions:
    """What the targets carry beyond their contexts."""

    base_registry: str | None = None  # where remote builders pull the bases from
    cache: str | None = None  # a registry repository for BuildKit's cache (`--cache REF`)
    attest: bool = False  # SLSA provenance and an SBOM attestation from BuildKit


# BuildKit's attestations, as buildx's bake `attest` attribute takes them (docs/bake-reference.md
# `target.attest`; util/buildflags/attests.go): provenance with every build step, and the SBOM
# BuildKit's own scanner makes of the image (SPDX; a generator cannot be handed a made SBOM).
ATTESTATIONS = ({"type": "provenance", "mode": "max"}, {"type": "sbom"})


def target_name(plan: BuildPlan) -> str:
    """The bake target of a plan: its image name with what buildx refuses in a target name
    (outside `[a-zA-Z0-9_-]`, bake.go validTargetNameChars) as `_`, as buildx itself sanitises
    compose service names (`sanitizeTargetName`)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", plan.name)


def bake_document(
    targets: list[BakeTarget], relative_to: Path, options: BakeOptions | None = None
) -> dict[str, Any]:
    """The bake file (buildx's JSON form) for `targets`, paths relative to the file's folder.
    Raises `InputError` when two models' names give one target name."""
    options = options or BakeOptions()
    entries: dict[str, Any] = {}
    for target in sorted(targets, key=lambda t: t.name):
        if target.name in entries:
            raise InputError(target.project / "imagekit.toml", f"the bake target {target.name!r} "
                             "is also another model's", "give the models names that differ in "
                             "more than '.' or '/'")  # fmt: skip
        entry: dict[str, Any] = {
            "context": _relative(target.context, relative_to),
            "dockerfile": "Dockerfile",
            "tags": [target.plan.image_ref],
            "platforms": [target.plan.platform],
            "network": "none",  # hermetic: every input is in the context
        }
        if options.base_registry:
            base = target.plan.base.reference
            registry = options.base_registry.rstrip("/")
            entry["contexts"] = {base: f"docker-image://{registry}/{base}"}
        if options.cache:
            entry.update(cache_entries(target, targets, options.cache))
        if options.attest:
            entry["attest"] = [dict(a) for a in ATTESTATIONS]
        entries[target.name] = entry
    return {"group": {"default": {"targets": sorted(entries)}}, "target": entries}


def cache_entries(target: BakeTarget, targets: list[BakeTarget], cache: str) -> dict[str, Any]:
    """`cache-to` the target's own tag of `cache`, `cache-from` its own and those of the targets
    on the same base (own first), in the form buildx's `--cache-from`/`--cache-to` take."""
    base = target.plan.base.reference
    peers = sorted(t.name for t in targets if t.plan.base.reference == base and t is not target)
    refs = [f"{cache}:bake-{name}" for name in (target.name, *peers)]
    return {
        "cache-from": [f"type=registry,ref={ref}" for ref in refs],
        "cache-to": [f"type=registry,ref={refs[0]},mode=max"],
    }


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path.resolve(), start.resolve())


def write_bake(
    root: Path,
    output: Path,
    *,
    options: BakeOptions | None = None,
    catalog: Catalog | None = None,
    cache_dir: Path | None = None,
) -> tuple[BakeTarget, ...]:
    """Plan every model under `root`, assemble their contexts and write the bake file.

    Raises `InvalidReferenceError` for a `cache` that is not a repository, before any work;
    `FindingsError` for models that fail their checks; `BakeFileError` for a document buildx
    would refuse (nothing is written)."""
    options = options or BakeOptions()
    if options.cache:
        options = replace(options, cache=str(cache_reference(options.cache)))
    targets = [
        BakeTarget(
            name=target_name(plan),
            project=project,
            plan=plan,
            context=assemble_target(project, plan, cache_dir=cache_dir),
        )
        for project, plan in plan_all(root, catalog, cache_dir=cache_dir)
    ]
    document = bake_document(targets, output.parent, options)
    validate_bake(document, output)
    write_json(output, document)
    return tuple(targets)
