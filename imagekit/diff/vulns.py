"""Vulnerabilities introduced and fixed: both sides scanned against the same OSV data."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

from imagekit.diff.model import Change, ChangeKind, Snapshot, Subject
from imagekit.diff.risk import ChangeRule, RiskTable, Rule
from imagekit.vulns import VulnFinding, VulnSource, choose_sources, scan

_Key = tuple[str, str, str]  # (advisory id, ecosystem, package name)


def vulnerability_changes(
    old: Snapshot,
    new: Snapshot,
    table: RiskTable,
    *,
    osv: Sequence[Path],
    today: datetime.date | None = None,
) -> list[Change]:
    """The advisories only the new side has (introduced) and only the old side had (fixed).

    Raises `VulnError` (no usable OSV data) or `VulnSourceError` (an unreadable export).
    """
    sources = choose_sources(osv=osv, online=False)
    day = today or datetime.date.today()
    before, after = _found(old, sources, day), _found(new, sources, day)
    introduced = table.for_change(ChangeRule.VULNERABILITY_INTRODUCED)
    fixed = table.for_change(ChangeRule.VULNERABILITY_FIXED)
    changes = [
        _change(after[k], ChangeKind.INTRODUCED, introduced)
        for k in sorted(after.keys() - before.keys())
    ]
    changes += [
        _change(before[k], ChangeKind.FIXED, fixed) for k in sorted(before.keys() - after.keys())
    ]
    return changes


def _found(
    snapshot: Snapshot, sources: Sequence[VulnSource], today: datetime.date
) -> dict[_Key, VulnFinding]:
    if snapshot.scan_target is None:
        return {}
    report = scan(snapshot.scan_target, sources, today=today)
    return {(f.id, f.package.ecosystem, f.package.name): f for f in report.active}


def _change(finding: VulnFinding, kind: ChangeKind, rule: Rule) -> Change:
    fixed_in = f", fixed in {', '.join(finding.fixed)}" if finding.fixed else ""
    version = finding.package.version
    return Change(
        subject=Subject.VULNERABILITY,
        name=finding.package.display_name,
        environment=finding.package.ecosystem,
        kind=kind,
        old=version if kind is ChangeKind.FIXED else None,
        new=version if kind is ChangeKind.INTRODUCED else None,
        risk=rule.risk,
        reason=rule.reason,
        rule=rule.name,
        detail=f"{finding.id}, {finding.rating.level.value}{fixed_in}",
    )
