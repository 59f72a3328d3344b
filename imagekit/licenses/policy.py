"""The licence policy: which SPDX licences are allowed, denied or need a human, and exceptions.

```toml
allow = ["MIT", "BSD-3-Clause", "Apache-2.0"]
deny = ["AGPL-3.0-only", "GPL-3.0-only"]
review = ["LGPL-2.1-or-later"]

[[exceptions]]
package = "nvidia-cuda-runtime-cu12"
version = "12.4.127"                      # optional: every version when left out
license = "NVIDIA Proprietary Software"   # an SPDX id or expression, or the name as found
reason = "CUDA EULA accepted by legal (ticket LEGAL-123)"
```

The same keys may sit under a `[licenses]` table of a larger policy file. Lists hold single
licences (`X WITH Y` counts as one); the evaluator combines AND/OR expressions itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import license_expression
from packaging.utils import NormalizedName, canonicalize_name

from imagekit.errors import ErrorCollector, FindingsError, InputError, Location
from imagekit.inventory.licences import NOASSERTION, spdx
from imagekit.tomlfile import Table, load_toml


class PolicyError(FindingsError):
    """The policy file is malformed: every bad key, each with its file and key path."""

    exit_code = 2  # bad input, not a denied licence


class Verdict(enum.StrEnum):
    """What the policy says of a licence; ordered from best to worst."""

    ALLOW = "allow"
    REVIEW = "review"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One licence listed in the policy, and where."""

    licence: str
    verdict: Verdict
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiver:
    """An `[[exceptions]]` entry: this package (at this version) may use this licence."""

    package: NormalizedName
    version: str | None
    licence: str  # canonical SPDX expression, or a licence name as found
    reason: str
    location: Location

    def covers(self, name: str, version: str | None, licence: str) -> bool:
        return (
            self.package == canonicalize_name(name)
            and (self.version is None or self.version == version)
            and self.licence.lower() == licence.lower()
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LicensePolicy:
    rules: dict[str, Rule]  # lower-cased licence -> rule
    exceptions: tuple[Waiver, ...]
    source: Path

    @classmethod
    def load(cls, path: Path) -> LicensePolicy:
        """Read a policy file; raises `InputError` (unreadable) or `PolicyError` naming every
        bad key at once."""
        return cls.from_dict(load_toml(path), path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: Path) -> LicensePolicy:
        # A policy file of its own, or the `[licenses]` table of one that holds other policies.
        table = Table(data, source).table("licenses") or Table(data, source)
        errors = ErrorCollector()
        rules: dict[str, Rule] = {}
        for verdict in (Verdict.ALLOW, Verdict.REVIEW, Verdict.DENY):
            with errors.collect():
                for i, entry in enumerate(table.str_list(verdict.value)):
                    with errors.collect():
                        rule = _rule(entry, verdict, table.location(f"{verdict.value}[{i}]"))
                        _add_rule(rules, rule)
        exceptions: list[Waiver] = []
        with errors.collect():
            for waiver in table.tables("exceptions"):
                with errors.collect():
                    exceptions.append(_waiver(waiver))
        with errors.collect():
            table.reject_unknown()
        if errors.findings:
            raise PolicyError(errors.findings)
        return cls(rules=rules, exceptions=tuple(exceptions), source=source)

    def rule(self, licence: str) -> Rule | None:
        return self.rules.get(licence.lower())

    def waiver(self, name: str, version: str | None, licence: str) -> Waiver | None:
        return next((w for w in self.exceptions if w.covers(name, version, licence)), None)


def _single(expression: str) -> bool:
    """True for one licence (`MIT`, `GPL-2.0-or-later WITH X`), False for AND/OR."""
    node = license_expression.Licensing().parse(expression)
    return isinstance(
        node, license_expression.LicenseSymbol | license_expression.LicenseWithExceptionSymbol
    )


def _rule(entry: str, verdict: Verdict, location: Location) -> Rule:
    canonical = spdx(entry)
    if canonical is None:
        raise InputError(
            location,
            f"{entry!r} is not an SPDX licence identifier",
            "use an id from https://spdx.org/licenses/ (or LicenseRef-...); "
            "licences that are not SPDX go to review on their own",
        )
    if not _single(canonical):
        raise InputError(
            location,
            f"{entry!r} is an expression",
            "list each licence on its own; AND/OR are evaluated from the packages' expressions",
        )
    return Rule(licence=canonical, verdict=verdict, location=location)


def _add_rule(rules: dict[str, Rule], rule: Rule) -> None:
    earlier = rules.get(rule.licence.lower())
    if earlier is not None and earlier.verdict is not rule.verdict:
        raise InputError(
            rule.location,
            f"{rule.licence} is also listed at {earlier.location.key}",
            "list each licence under one of allow, review, deny",
        )
    rules[rule.licence.lower()] = rule


def _waiver(entry: Table) -> Waiver:
    package = entry.req_str("package")
    reason = entry.req_str("reason").strip()
    if not reason:
        raise InputError(
            entry.location("reason"), "reason is empty", "say why this exception is acceptable"
        )
    raw = entry.req_str("license")
    licence = NOASSERTION if raw.strip().upper() == NOASSERTION else (spdx(raw) or raw.strip())
    version = entry.get_str("version")
    entry.reject_unknown()
    return Waiver(
        package=canonicalize_name(package),
        version=version,
        licence=licence,
        reason=reason,
        location=entry.location(),
    )
