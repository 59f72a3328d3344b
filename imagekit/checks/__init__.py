"""What `check`, `build` and `bake` refuse before any engine runs.

One module per check (or a few cohesive ones), each a function of the `Check` protocol (or
`PlanCheck`, for the planned image); `registry` lists them in the order they run; `run` runs
them over a model folder and collects every finding. `imagekit.plan.prepare` adds the planner.
"""

from imagekit.checks.interface import Check, CheckResult, PlanCheck, Subject
from imagekit.checks.registry import CHECKS, PLAN_CHECKS
from imagekit.checks.run import run_checks, run_plan_checks

__all__ = [
    "CHECKS",
    "PLAN_CHECKS",
    "Check",
    "CheckResult",
    "PlanCheck",
    "Subject",
    "run_checks",
    "run_plan_checks",
]
