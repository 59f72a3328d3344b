"""Run the registry's checks on a model folder, collecting every finding in one pass.

`run_checks` reads the spec, the lock and the base and runs every `Check`; `run_plan_checks`
judges the plan made from a project that passed them. `imagekit.plan.prepare` joins the two
with the planner: that is what `imagekit check`, `build` and `bake` run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from imagekit.checks.interface import Check, CheckResult, Subject
from imagekit.checks.registry import CHECKS, PLAN_CHECKS
from imagekit.conflicts.index import MetadataSource
from imagekit.errors import ErrorCollector
from imagekit.plan.catalog import Catalog
from imagekit.project import read_project
from imagekit.project.spec import load_spec

if TYPE_CHECKING:
    from imagekit.plan.model import BuildPlan


def run_checks(
    project: Path,
    catalog: Catalog | None = None,
    *,
    cache_dir: Path | None = None,
    allow_incompatible: str | None = None,
    metadata: MetadataSource | None = None,
    checks: Sequence[Check] = CHECKS,
) -> CheckResult:
    """Run every pre-build check (`checks`: the registry's, in its order) on a model folder.

    `cache_dir`: the wheel cache (its `metadata/` folder caches the wheels' METADATA);
    `metadata`: where METADATA comes from (default: that cache, then pip's indexes);
    `allow_incompatible`: the reason to build for a fleet no pool of which runs the image (its
    verdict is then a warning, once the plan is judged).
    Raises `InputError` when the spec or its deployment registry cannot be read; every other
    problem becomes a finding of the result.
    """
    spec = load_spec(project)
    collector = ErrorCollector()
    bases = catalog or Catalog.load()
    subject = Subject(
        spec=spec,
        project=read_project(spec, bases, collector),
        catalog=bases,
        source=metadata or MetadataSource(cache_dir=cache_dir),
        allow_incompatible=allow_incompatible,
    )
    for check in checks:
        subject = check(subject, collector)
    return CheckResult(subject=subject, findings=collector.findings)


def run_plan_checks(result: CheckResult, plan: BuildPlan) -> CheckResult:
    """Judge the plan of a project whose checks passed: the result with the plan, the fleet's
    verdict and their findings. Raises `InputError` for a bad fleet file."""
    collector = ErrorCollector()
    compat = None
    for check in PLAN_CHECKS:
        compat = check(result.subject, plan, collector) or compat
    findings = (*result.findings, *collector.findings)
    return dataclasses.replace(result, plan=plan, compat=compat, findings=findings)
