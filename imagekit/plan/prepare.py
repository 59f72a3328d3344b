"""Check, then plan: the one sequence `imagekit check`, `plan`, `render`, `build` and `bake`
run before any engine, so they all reach the same verdict on a model.

`check_project` runs every check, plans a project that passes them and judges the plan (the
fleet); it never raises for a finding. `prepare` does the same and raises unless the project
can be built, returning the plan and the warnings for the caller to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imagekit.checks.fleet import FLEET_RULE
from imagekit.checks.interface import CheckResult
from imagekit.checks.run import run_checks, run_plan_checks
from imagekit.errors import Finding, FindingsError
from imagekit.plan.catalog import BaseImage, Catalog
from imagekit.plan.model import BuildPlan
from imagekit.plan.planner import make_plan
from imagekit.project import Project
from imagekit.project.lockfile import LockedPackage
from imagekit.project.spec import ModelSpec

if TYPE_CHECKING:
    from imagekit.conflicts.index import MetadataSource
    from imagekit.gpu import CompatReport


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A project that passed every check, and its plan."""

    project: Project
    packages: tuple[LockedPackage, ...]  # the lock's packages that apply to the target
    plan: BuildPlan
    compat: CompatReport | None  # the spec's fleet's verdict on the plan, if it names one
    warnings: tuple[Finding, ...]

    @property
    def spec(self) -> ModelSpec:
        return self.project.spec

    @property
    def base(self) -> BaseImage:
        return self.project.base


def check_project(
    path: Path,
    catalog: Catalog | None = None,
    *,
    cache_dir: Path | None = None,
    allow_incompatible: str | None = None,
    metadata: MetadataSource | None = None,
) -> CheckResult:
    """Every check of a model folder, and, when they pass, its plan judged by the plan checks
    (see `run_checks` for the arguments). Raises `InputError` for a spec, fleet file or
    deployment registry that cannot be read."""
    result = run_checks(
        path, catalog, cache_dir=cache_dir, allow_incompatible=allow_incompatible, metadata=metadata
    )
    if not result.ok or result.project is None:
        return result
    return run_plan_checks(result, make_plan(result.project, result.packages))


def prepared(result: CheckResult) -> Prepared:
    """The checked project and its plan, from the result of `check_project`.

    Raises `IncompatibleError` when no pool of the spec's fleet runs the planned image (and no
    reason to build anyway was given) and that is the only error, `FindingsError` (every
    finding) for any other error.
    """
    errors = result.errors
    if errors and all(f.rule == FLEET_RULE for f in errors):
        from imagekit.gpu import IncompatibleError  # noqa: PLC0415 - fleets only

        raise IncompatibleError(f"{errors[0].message} (fix: {errors[0].fix})")
    if errors or result.project is None or result.plan is None:
        raise FindingsError(result.findings)
    return Prepared(
        project=result.project,
        packages=result.packages,
        plan=result.plan,
        compat=result.compat,
        warnings=result.warnings,
    )


def prepare(
    path: Path,
    catalog: Catalog | None = None,
    *,
    cache_dir: Path | None = None,
    allow_incompatible: str | None = None,
) -> Prepared:
    """Check and plan a model folder; raises as `prepared` and `check_project` do."""
    return prepared(
        check_project(path, catalog, cache_dir=cache_dir, allow_incompatible=allow_incompatible)
    )
