"""`imagekit diff`: what changed between two images, SBOMs or lockfiles, and how risky it is.

Each change is classed `numeric-risk`, `behaviour` or `benign` by the risk table that ships in
the package (`imagekit/data/risk.toml`), which the platform team can override.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from imagekit.diff.compare import compare_versions, diff_snapshots, major_of
from imagekit.diff.inputs import from_inventory, from_lock, load_snapshot
from imagekit.diff.model import (
    Artifact,
    Change,
    ChangeKind,
    Diff,
    DiffInputError,
    Ecosystem,
    InputKind,
    Package,
    RiskClass,
    Snapshot,
    Subject,
)
from imagekit.diff.render import summary_line, to_json, to_markdown, to_text
from imagekit.diff.risk import ChangeRule, RiskTable, Rule, default_table, load_table
from imagekit.diff.vulns import vulnerability_changes

__all__ = [
    "Artifact",
    "Change",
    "ChangeKind",
    "ChangeRule",
    "Diff",
    "DiffInputError",
    "Ecosystem",
    "InputKind",
    "Package",
    "RiskClass",
    "RiskTable",
    "Rule",
    "Snapshot",
    "Subject",
    "compare_versions",
    "default_table",
    "diff",
    "diff_snapshots",
    "from_inventory",
    "from_lock",
    "load_snapshot",
    "load_table",
    "major_of",
    "summary_line",
    "to_json",
    "to_markdown",
    "to_text",
    "vulnerability_changes",
]


def diff(
    old: str,
    new: str,
    *,
    risk: Path | None = None,
    osv: Sequence[Path] = (),
    today: datetime.date | None = None,
) -> Diff:
    """Compare two images, SBOMs or lockfiles; with `osv` (OSV exports), the vulnerabilities
    introduced and fixed too. Raises `InputError` (or another `ImagekitError`) when either
    side, the risk file or the OSV data cannot be read."""
    table = load_table(risk)
    before, after = load_snapshot(old), load_snapshot(new)
    result = diff_snapshots(before, after, table)
    if not osv:
        return result
    found = vulnerability_changes(before, after, table, osv=osv, today=today)
    changes = tuple(sorted((*result.changes, *found), key=Change.sort_key))
    return replace(result, changes=changes)
