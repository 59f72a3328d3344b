"""A scan: the target's packages against the sources' OSV records, one finding per vulnerability.

Records that name each other (a GHSA and a PYSEC record both aliasing CVE-2023-44271) are one
vulnerability: they are grouped by shared ids, and the finding lists every id, the fixed versions
of all of them and the highest severity. A finding is shown under its CVE when it has one.
Ignores (`imagekit.vulns.ignore`) mark findings as accepted until they expire.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from imagekit.errors import Finding, Location, Severity
from imagekit.vulns.export import SKIPPED_RULES
from imagekit.vulns.ignore import RULE_IGNORE, IgnoreRule
from imagekit.vulns.interface import Package, VulnSource
from imagekit.vulns.match import (
    Match,
    check_installed,
    concerns,
    evaluate,
    package_key,
    sort_versions,
)
from imagekit.vulns.osv import OsvRecord
from imagekit.vulns.severity import Level, Rating, rate
from imagekit.vulns.targets import Target

RULE_MATCH = "osv-match"
RULE_DUPLICATE = "osv-duplicate"
_ID_RANK = ("CVE-", "GHSA-", "PYSEC-")


def id_rank(vuln_id: str) -> tuple[int, str]:
    """CVE ids first, then GHSA, PYSEC, then the rest; alphabetical within each."""
    for rank, prefix in enumerate(_ID_RANK):
        if vuln_id.startswith(prefix):
            return rank, vuln_id
    return len(_ID_RANK), vuln_id


@dataclass(frozen=True, slots=True, kw_only=True)
class VulnFinding:
    """One vulnerability of one installed package."""

    id: str
    aliases: tuple[str, ...]
    package: Package
    rating: Rating
    fixed: tuple[str, ...]
    summary: str | None
    records: tuple[OsvRecord, ...]
    ignored_by: IgnoreRule | None = None
    matched_on: str | None = None  # "matched on public version 2.5.1 of 2.5.1+cu124"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.id, *self.aliases))

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "package": self.package.to_dict(),
            "severity": self.rating.to_dict(),
            "fixed_versions": list(self.fixed),
            "summary": self.summary,
            "records": [{"id": r.id, "origin": r.origin} for r in self.records],
            "ignored": self.ignored_by.to_dict() if self.ignored_by else None,
            "matched_on": self.matched_on,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanReport:
    target: str
    sources: tuple[str, ...]
    packages: int
    findings: tuple[VulnFinding, ...]  # the ignored ones too (`ignored_by` set)
    warnings: tuple[Finding, ...] = ()
    expired: tuple[IgnoreRule, ...] = field(default=())

    @property
    def active(self) -> tuple[VulnFinding, ...]:
        return tuple(f for f in self.findings if f.ignored_by is None)

    @property
    def ignored(self) -> tuple[VulnFinding, ...]:
        return tuple(f for f in self.findings if f.ignored_by is not None)

    @property
    def unread(self) -> tuple[Finding, ...]:
        """Warnings about OSV records that were skipped: advisories the scan may be missing."""
        return tuple(w for w in self.warnings if w.rule in SKIPPED_RULES)

    def failing(self, threshold: Level) -> tuple[VulnFinding, ...]:
        """Findings not ignored at or above `threshold`. An unknown severity fails at every
        threshold: it is not known to be below it (ignore it explicitly to accept it)."""
        return tuple(
            f
            for f in self.active
            if f.rating.level is Level.UNKNOWN or f.rating.level.rank >= threshold.rank
        )

    def to_dict(self) -> dict[str, object]:
        counts = {level.value: 0 for level in Level}
        for finding in self.active:
            counts[finding.rating.level.value] += 1
        return {
            "target": self.target,
            "sources": list(self.sources),
            "packages": self.packages,
            "summary": {"vulnerabilities": len(self.active), "ignored": len(self.ignored)}
            | {"by_severity": counts},
            "findings": [f.to_dict() for f in self.findings],
            "expired_ignores": [r.to_dict() for r in self.expired],
            "warnings": [w.to_dict() for w in self.warnings],
        }


class _Warnings:
    """Warnings without repeats (a bad record concerns every package it names)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Finding] = {}

    def add(self, location: Location, message: str, fix: str, rule: str = RULE_MATCH) -> None:
        self.items.setdefault(
            (str(location), message),
            Finding(
                location=location, rule=rule, message=message, fix=fix, severity=Severity.WARNING
            ),
        )

    def record(self, record: OsvRecord, message: str) -> None:
        self.add(
            Location(file=Path(record.origin), key=record.id),
            message,
            "report it to the advisory's database; the rest of the record was used",
        )


def _group(matches: Iterable[Match]) -> list[list[Match]]:
    """Matches whose records share an id (its own or an alias) in one group each."""
    groups: list[tuple[set[str], list[Match]]] = []
    for match in matches:
        ids = set(match.record.ids)
        joined = [g for g in groups if g[0] & ids]
        for g in joined:
            groups.remove(g)
            ids |= g[0]
        groups.append((ids, [m for g in joined for m in g[1]] + [match]))
    return [members for _, members in groups]


def _rating(match: Match, warnings: _Warnings) -> Rating:
    scores = [s for a in match.affected for s in a.severity] or list(match.record.severity)
    rating, problems = rate(scores, match.record.database_severity)
    for problem in problems:
        warnings.record(match.record, f"severity: {problem}")
    return rating


def _finding(package: Package, members: Sequence[Match], warnings: _Warnings) -> VulnFinding:
    ids = sorted({i for m in members for i in m.record.ids}, key=id_rank)
    records = sorted((m.record for m in members), key=lambda r: id_rank(r.id))
    summaries = [r.summary or (r.details or "").strip().split("\n")[0] for r in records]
    return VulnFinding(
        id=ids[0],
        aliases=tuple(ids[1:]),
        package=package,
        rating=max((_rating(m, warnings) for m in members), key=Rating.sort_key),
        fixed=sort_versions({v for m in members for v in m.fixed}, package),
        summary=next((s[:200] for s in summaries if s), None),
        records=tuple(records),
        matched_on=next((m.matched_on for m in members if m.matched_on), None),
    )


def _package_findings(
    package: Package, records: Iterable[OsvRecord], warnings: _Warnings, reference: str
) -> list[VulnFinding]:
    problem = check_installed(package)
    if problem:
        warnings.add(
            Location(file=Path(reference), key=f"{package.ecosystem}/{package.name}"),
            f"{package.name} {package.version}: {problem}; only advisories that list this exact "
            "version can match it",
            "install a release with a standard version, or check its advisories by hand",
        )
    matches: list[Match] = []
    for record in records:
        match, problems = evaluate(record, package)
        for p in problems:
            warnings.record(p.record, p.message)
        if match:
            matches.append(match)
    return [_finding(package, members, warnings) for members in _group(matches)]


def _apply_ignores(
    findings: list[VulnFinding], rules: Sequence[IgnoreRule], today: datetime.date, w: _Warnings
) -> tuple[list[VulnFinding], tuple[IgnoreRule, ...]]:
    live = [r for r in rules if not r.expired(today)]
    expired = tuple(r for r in rules if r.expired(today))
    used: set[int] = set()
    out = []
    for finding in findings:
        upper = {i.upper() for i in finding.ids}
        rule = next((r for r in live if r.id.upper() in upper), None)
        if rule is not None:
            used.add(id(rule))
        out.append(replace(finding, ignored_by=rule) if rule else finding)
    for rule in expired:
        w.add(
            rule.location,
            f"the ignore of {rule.id} expired on {rule.expires.isoformat()}; it is reported again",
            "fix the vulnerability, or renew the ignore with a new date and reason",
            RULE_IGNORE,
        )
    for rule in live:
        if id(rule) not in used:
            w.add(
                rule.location,
                f"{rule.id} is ignored but no finding has that id or alias",
                "remove the entry if the vulnerability is gone",
                RULE_IGNORE,
            )
    return out, expired


def _modified(record: OsvRecord) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(record.modified or "")
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def _merge(records: dict[str, OsvRecord], record: OsvRecord, warnings: _Warnings) -> None:
    """Add `record` to `records` by id. The same record read twice (two files, a file and the
    API) is kept once; two different records under one id keep the newer `modified` (the first
    read when neither date decides) and the other is named in a warning, never dropped silently.
    """
    kept = records.get(record.id)
    if kept is None:
        records[record.id] = record
        return
    if kept.to_dict() == record.to_dict():
        return
    old, new = _modified(kept), _modified(record)
    newer = record if old is not None and new is not None and new > old else kept
    dropped = kept if newer is record else record
    records[record.id] = newer
    warnings.add(
        Location(file=Path(dropped.origin), key=record.id),
        f"another record {record.id} with different content is in {newer.origin} "
        f"(modified {newer.modified or 'unknown'}); that one is used, this one "
        f"(modified {dropped.modified or 'unknown'}) is not",
        "keep one copy of each advisory in the export",
        RULE_DUPLICATE,
    )


def _index(records: Iterable[OsvRecord]) -> dict[tuple[str, str], list[OsvRecord]]:
    """Records by (ecosystem, package key) of each package they name."""
    index: dict[tuple[str, str], list[OsvRecord]] = {}
    for record in records:
        keys = {
            (base, package_key(base, a.name))
            for a in record.affected
            if a.ecosystem and a.name
            for base in [a.ecosystem.partition(":")[0]]
        }
        for key in sorted(keys):
            index.setdefault(key, []).append(record)
    return index


def _order(finding: VulnFinding) -> tuple[int, float, str, str]:
    """Most severe first, then by package and id."""
    rating = finding.rating
    return -rating.level.rank, -(rating.score or 0.0), finding.package.name, finding.id


def scan(
    target: Target,
    sources: Sequence[VulnSource],
    *,
    ignores: Sequence[IgnoreRule] = (),
    today: datetime.date,
) -> ScanReport:
    """Match every package of `target` against the records of `sources`. Raises
    `VulnSourceError` when a source cannot be read at all."""
    warnings = _Warnings()
    records: dict[str, OsvRecord] = {}
    source_warnings: list[Finding] = list(target.warnings)
    for source in sources:
        result = source.fetch(target.packages)
        source_warnings.extend(result.warnings)
        for record in result.records:
            _merge(records, record, warnings)
    index = _index(records.values())
    findings: list[VulnFinding] = []
    for package in target.packages:
        key = (package.ecosystem_base, package_key(package.ecosystem_base, package.name))
        relevant = [r for r in index.get(key, []) if any(concerns(a, package) for a in r.affected)]
        findings.extend(_package_findings(package, relevant, warnings, target.reference))
    findings, expired = _apply_ignores(findings, ignores, today, warnings)
    findings.sort(key=_order)
    return ScanReport(
        target=target.reference,
        sources=tuple(s.describe() for s in sources),
        packages=len(target.packages),
        findings=tuple(findings),
        warnings=tuple(source_warnings) + tuple(warnings.items.values()),
        expired=expired,
    )
