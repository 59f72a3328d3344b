"""The ignore file: vulnerabilities accepted for a while, each with a reason and an end date.

    [[ignore]]
    id = "GHSA-8ghj-p4vj-mr35"          # the id or any alias (CVE-..., PYSEC-...)
    reason = "ImageFont is never given user text in this model"
    expires = 2026-12-31                 # a TOML date; after it the finding counts again
    state = "not_affected"               # optional: not_affected (default) | false_positive
    justification = "code_not_reachable" # optional, CycloneDX's impact justification

An expired entry no longer ignores anything and is reported. Every problem in the file is
reported together (`IgnoreFileError`, exit code 2).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.errors import ErrorCollector, InputError, Location
from imagekit.tomlfile import Table, load_toml
from imagekit.vulns.interface import IgnoreFileError

RULE_IGNORE = "vuln-ignore"
_KEYS = frozenset({"id", "reason", "expires", "state", "justification"})


class AnalysisState(enum.StrEnum):
    """The CycloneDX VEX states an ignore may declare."""

    NOT_AFFECTED = "not_affected"
    FALSE_POSITIVE = "false_positive"


class Justification(enum.StrEnum):
    """CycloneDX 1.6 `analysis.justification`."""

    CODE_NOT_PRESENT = "code_not_present"
    CODE_NOT_REACHABLE = "code_not_reachable"
    REQUIRES_CONFIGURATION = "requires_configuration"
    REQUIRES_DEPENDENCY = "requires_dependency"
    REQUIRES_ENVIRONMENT = "requires_environment"
    PROTECTED_BY_COMPILER = "protected_by_compiler"
    PROTECTED_AT_RUNTIME = "protected_at_runtime"
    PROTECTED_AT_PERIMETER = "protected_at_perimeter"
    PROTECTED_BY_MITIGATING_CONTROL = "protected_by_mitigating_control"


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreRule:
    id: str
    reason: str
    expires: datetime.date
    location: Location
    state: AnalysisState = AnalysisState.NOT_AFFECTED
    justification: Justification | None = None

    def expired(self, today: datetime.date) -> bool:
        """Past its last day: `expires = 2026-12-31` still ignores on 2026-12-31."""
        return today > self.expires

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "state": self.state.value,
            "justification": self.justification.value if self.justification else None,
            "location": self.location.to_dict(),
        }


def _enum(table: Table, key: str, kind: type[enum.StrEnum]) -> Any:
    value = table.get_str(key)
    if value is None:
        return None
    choices = ", ".join(m.value for m in kind)
    if value not in {m.value for m in kind}:
        raise InputError(table.location(key), f"{value!r} is not one of {choices}", "use one")
    return kind(value)


def _expires(table: Table, raw: Mapping[str, Any]) -> datetime.date:
    value = raw.get("expires")
    if value is None:
        raise InputError(
            table.location("expires"),
            "required key is missing: an ignore must end",
            "add `expires = 2026-12-31` (a TOML date, unquoted)",
        )
    if type(value) is not datetime.date:
        raise InputError(
            table.location("expires"),
            f"must be a TOML date like 2026-12-31, got {value!r}",
            "write the date unquoted, without a time",
        )
    return value


def _rule(table: Table, raw: Mapping[str, Any]) -> IgnoreRule:
    unknown = sorted(set(table.names()) - _KEYS)
    if unknown:
        raise InputError(table.location(unknown[0]), "unknown key", "remove it or fix its spelling")
    vuln_id = table.req_str("id").strip()
    reason = table.req_str("reason").strip()
    if not vuln_id:
        raise InputError(table.location("id"), "is empty", "give the vulnerability id")
    if not reason:
        raise InputError(table.location("reason"), "is empty", "say why it is safe to ignore")
    return IgnoreRule(
        id=vuln_id,
        reason=reason,
        expires=_expires(table, raw),
        location=table.location(),
        state=_enum(table, "state", AnalysisState) or AnalysisState.NOT_AFFECTED,
        justification=_enum(table, "justification", Justification),
    )


def load_ignores(path: Path) -> tuple[IgnoreRule, ...]:
    """Every rule of an ignore file; raises `IgnoreFileError` listing every problem, or
    `InputError` for a file that is missing or not TOML."""
    data = load_toml(path)
    top = Table(data, path)
    collector = ErrorCollector()
    rules: list[IgnoreRule] = []
    for key in sorted(set(top.names()) - {"ignore"}):
        collector.error(top.location(key), RULE_IGNORE, "unknown key", "use [[ignore]] tables")
    tables: tuple[Table, ...] = ()
    with collector.collect():
        tables = top.tables("ignore")
    for table, raw in zip(tables, data.get("ignore", []), strict=False):
        with collector.collect():
            rules.append(_rule(table, raw))
    if collector.findings:
        raise IgnoreFileError(collector.findings)
    return tuple(rules)
