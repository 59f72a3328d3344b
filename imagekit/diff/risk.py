"""The risk table: which class each change falls in, and why.

The table ships inside the package (`imagekit/data/risk.toml`); the platform team overrides it
with a file of the same format, whose entries replace the shipped ones by name and whose
package entries are matched first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path

from imagekit.diff.model import Ecosystem, RiskClass
from imagekit.errors import InputError, Location
from imagekit.tomlfile import Table, load_toml

SCHEMA = 1
_ECOSYSTEMS = ("python", "deb", "any")


class ChangeRule(enum.StrEnum):
    """The rules for changes that are not classed by a package entry."""

    CUDA_MAJOR = "cuda-major"
    CUDA_MINOR = "cuda-minor"
    DRIVER = "driver"
    ARTIFACT = "artifact"
    LICENCE = "licence"
    VULNERABILITY_INTRODUCED = "vulnerability-introduced"
    VULNERABILITY_FIXED = "vulnerability-fixed"
    DIRECT_DEPENDENCY = "direct-dependency"
    MAJOR_VERSION = "major-version"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One entry of the table: a class and the reason for it."""

    name: str
    risk: RiskClass
    reason: str
    location: Location
    source: str | None = None  # a key of the table's [sources]
    ecosystem: str = "any"  # package entries: "python" | "deb" | "any"
    patterns: tuple[str, ...] = ()  # package entries: globs over package names

    def matches(self, ecosystem: Ecosystem, name: str) -> bool:
        fits = self.ecosystem in ("any", ecosystem.value)
        return fits and any(fnmatchcase(name, p) for p in self.patterns)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskTable:
    packages: tuple[Rule, ...]  # in matching order
    changes: dict[str, Rule]
    sources: dict[str, str]

    def for_package(self, ecosystem: Ecosystem, name: str) -> Rule | None:
        """The first package entry matching `name`, or None."""
        return next((r for r in self.packages if r.matches(ecosystem, name)), None)

    def for_change(self, rule: ChangeRule) -> Rule:
        return self.changes[rule.value]

    def source_of(self, rule: Rule) -> str | None:
        return self.sources.get(rule.source) if rule.source else None

    def overridden_by(self, other: RiskTable) -> RiskTable:
        """This table with `other`'s entries replacing these by name; `other`'s packages first."""
        theirs = {r.name for r in other.packages}
        return RiskTable(
            packages=(*other.packages, *(r for r in self.packages if r.name not in theirs)),
            changes={**self.changes, **other.changes},
            sources={**self.sources, **other.sources},
        )


def default_table() -> RiskTable:
    """The table shipped with imagekit; raises `InputError` if it is malformed (a bug)."""
    packaged = resources.files("imagekit") / "data" / "risk.toml"
    with resources.as_file(packaged) as path:
        return check_sources(parse_table(path, complete=True))


def load_table(override: Path | None = None) -> RiskTable:
    """The shipped table, overridden by the file `override` if given; raises `InputError`."""
    table = default_table()
    if override is None:
        return table
    return check_sources(table.overridden_by(parse_table(override, complete=False)))


def parse_table(path: Path, *, complete: bool) -> RiskTable:
    """Read a risk table file; `complete`: it must define every change rule."""
    t = Table(load_toml(path), path)
    schema = t.get_int("schema", SCHEMA)
    if schema != SCHEMA:
        raise InputError(t.location("schema"), f"unknown schema {schema}", f"use {SCHEMA}")
    sources = t.str_map("sources")
    packages = _unique(tuple(_package_rule(p) for p in t.tables("packages")), "packages")
    changes = _unique(tuple(_change_rule(c) for c in t.tables("changes")), "changes")
    t.reject_unknown()
    table = RiskTable(packages=packages, changes={r.name: r for r in changes}, sources=sources)
    if complete:
        missing = sorted({r.value for r in ChangeRule} - set(table.changes))
        if missing:
            raise InputError(
                Location(file=path, key="changes"),
                f"no entry for {', '.join(missing)}",
                "add a [[changes]] entry for each",
            )
    return table


def check_sources(table: RiskTable) -> RiskTable:
    """Every `source` an entry names is a key of [sources]; raises `InputError`."""
    for rule in (*table.packages, *table.changes.values()):
        if rule.source is not None and rule.source not in table.sources:
            raise InputError(
                replace(rule.location, key=f"{rule.location.key}.source"),
                f"source {rule.source!r} is not in [sources]",
                "add it to [sources] or remove `source`",
            )
    return table


def _unique(rules: tuple[Rule, ...], key: str) -> tuple[Rule, ...]:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.name in seen:
            raise InputError(
                rule.location,
                f"{key} entry {rule.name!r} is defined twice (also at {seen[rule.name].location})",
                "keep one",
            )
        seen[rule.name] = rule
    return rules


def _common(t: Table) -> tuple[str, RiskClass, str, str | None]:
    name = t.req_str("name")
    value = t.req_str("class")
    try:
        risk = RiskClass(value)
    except ValueError as e:
        known = ", ".join(r.value for r in RiskClass)
        raise InputError(t.location("class"), f"unknown class {value!r}", f"use {known}") from e
    reason = t.req_str("reason").strip()
    if not reason:
        raise InputError(t.location("reason"), "the reason is empty", "say why, in one line")
    return name, risk, reason, t.get_str("source")


def _package_rule(t: Table) -> Rule:
    name, risk, reason, source = _common(t)
    ecosystem = t.get_str("ecosystem", "any") or "any"
    if ecosystem not in _ECOSYSTEMS:
        raise InputError(
            t.location("ecosystem"), f"unknown ecosystem {ecosystem!r}", "use python, deb or any"
        )
    patterns = t.str_list("match")
    if not patterns:
        raise InputError(t.location("match"), "no patterns", 'list names: match = ["numpy"]')
    t.reject_unknown()
    return Rule(
        name=name,
        risk=risk,
        reason=reason,
        source=source,
        ecosystem=ecosystem,
        patterns=patterns,
        location=t.location(),
    )


def _change_rule(t: Table) -> Rule:
    name, risk, reason, source = _common(t)
    if name not in {r.value for r in ChangeRule}:
        raise InputError(
            t.location("name"),
            f"unknown change rule {name!r}",
            f"use one of: {', '.join(r.value for r in ChangeRule)}",
        )
    t.reject_unknown()
    return Rule(name=name, risk=risk, reason=reason, source=source, location=t.location())
