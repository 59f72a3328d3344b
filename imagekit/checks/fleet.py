"""The fleet: some node pool of the spec's fleet must run the planned image (its CUDA against
the pools' drivers and GPUs), unless the author gives the reason to build anyway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.checks.interface import Subject
from imagekit.errors import ErrorCollector, Finding, Severity

if TYPE_CHECKING:
    from imagekit.gpu import CompatReport
    from imagekit.plan.model import BuildPlan

FLEET_RULE = "fleet-incompatible"


def check_fleet(
    subject: Subject, plan: BuildPlan, collector: ErrorCollector
) -> CompatReport | None:
    """The fleet's verdict on `plan` (None when the spec names no fleet): an image no pool can
    run is an error, or a warning when `subject.allow_incompatible` gives the reason.
    Raises `InputError` for a bad fleet file."""
    spec = subject.spec
    if spec.fleet is None:
        return None
    from imagekit.gpu import compat_of_plan, knowledge_base, load_fleet  # noqa: PLC0415 - fleets only

    kb = knowledge_base()
    report = compat_of_plan(plan, load_fleet(spec.fleet, kb), packages=subject.packages, kb=kb)
    for finding in report.summary.findings:
        collector.add(finding)
    if not report.runnable:
        reasons = "; ".join(p.reason for p in report.pools)
        reason = (subject.allow_incompatible or "").strip()
        collector.add(
            Finding(
                location=spec.location("fleet"),
                rule=FLEET_RULE,
                message=f"{spec.fleet}: no pool can run {plan.image_ref}: {reasons}"
                + (f" (built anyway: {reason})" if reason else ""),
                fix='meet one pool\'s needs, or build anyway with --allow-incompatible "REASON"',
                severity=Severity.WARNING if reason else Severity.ERROR,
            )
        )
    return report
