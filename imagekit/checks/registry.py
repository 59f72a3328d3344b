"""The checks `imagekit check`, `build` and `bake` run, in order, in one place.

A new check is a module in this package with a function of the `Check` protocol (or
`PlanCheck`, when it judges the plan), and one line here. Order matters only where a check
reads what an earlier one learnt: `check_lock` finds the packages that apply to the target,
`check_requirements` reads their METADATA, which `check_licence_policy` judges.
"""

from __future__ import annotations

from imagekit.checks import (
    appfiles,
    artifacts,
    base,
    deployment,
    entrypoint,
    fleet,
    licences,
    lock,
    requirements,
)
from imagekit.checks.interface import Check, PlanCheck

CHECKS: tuple[Check, ...] = (
    lock.check_lock,
    base.check_base_packages,
    lock.check_declared,
    requirements.check_requirements,
    base.check_system_packages,
    artifacts.check_artifacts,
    appfiles.check_app_files,
    deployment.check_deployment,
    licences.check_licence_policy,
    entrypoint.check_entrypoint,
)

# Run on the plan, once every check above passed.
PLAN_CHECKS: tuple[PlanCheck, ...] = (fleet.check_fleet,)
