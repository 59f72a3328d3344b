"""Two snapshots compared: every change, classed by the risk table.

Python packages are matched by canonical name and environment (site-packages, or a lock's
marker), Debian packages by name and architecture; a package that moved environment is matched
by name when it is the only one of that name on each side. Versions compare by PEP 440 or by
dpkg's algorithm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.version import InvalidVersion, Version

from imagekit.diff.model import (
    Change,
    ChangeKind,
    Diff,
    Ecosystem,
    Package,
    Snapshot,
    Subject,
)
from imagekit.diff.risk import ChangeRule, RiskTable, Rule
from imagekit.inventory.debversion import DebianVersionError, compare_debian_versions

_SUBJECT = {Ecosystem.PYTHON: Subject.PYTHON, Ecosystem.DEB: Subject.DEB}
_DEB_MAJOR = re.compile(r"^(?:(?P<epoch>\d+):)?(?P<major>\d+)")


def diff_snapshots(old: Snapshot, new: Snapshot, table: RiskTable) -> Diff:
    """Every change from `old` to `new`, sorted by class, subject and name."""
    changes = [
        *package_changes(old, new, table),
        *cuda_changes(old, new, table),
        *artifact_changes(old, new, table),
    ]
    return Diff(
        old=old.reference, new=new.reference, changes=tuple(sorted(changes, key=Change.sort_key))
    )


# --- packages --------------------------------------------------------------------------------


def pair_packages(
    old: Iterable[Package], new: Iterable[Package]
) -> list[tuple[Package | None, Package | None]]:
    """(old, new) pairs: by key, then leftovers by name when each side has exactly one."""
    olds = {p.key: p for p in old}
    news = {p.key: p for p in new}
    pairs: list[tuple[Package | None, Package | None]] = [
        (olds[k], news[k]) for k in sorted(olds.keys() & news.keys())
    ]
    gone = [olds[k] for k in sorted(olds.keys() - news.keys())]
    came = [news[k] for k in sorted(news.keys() - olds.keys())]
    for package in list(gone):
        same = [p for p in came if (p.ecosystem, p.name) == (package.ecosystem, package.name)]
        alike = [p for p in gone if (p.ecosystem, p.name) == (package.ecosystem, package.name)]
        if len(same) == 1 and len(alike) == 1:
            pairs.append((package, same[0]))
            gone.remove(package)
            came.remove(same[0])
    pairs += [(p, None) for p in gone]
    pairs += [(None, p) for p in came]
    return pairs


def package_changes(old: Snapshot, new: Snapshot, table: RiskTable) -> list[Change]:
    direct = old.direct | new.direct
    changes: list[Change] = []
    for before, after in pair_packages(old.packages, new.packages):
        kind = _version_change(before, after)
        if kind is not None:
            changes.append(_package_change(table, before, after, kind, direct))
        # A side that records no licence (a lockfile) does not change it.
        if before and after and before.licences and after.licences:
            changes.extend(_licence_change(before, after, table))
    return changes


def _package_change(
    table: RiskTable,
    before: Package | None,
    after: Package | None,
    kind: ChangeKind,
    direct: frozenset[str],
) -> Change:
    package = after or before
    if package is None:
        raise ValueError("a change needs a package on one side")
    major = kind in (ChangeKind.ADDED, ChangeKind.REMOVED) or _major_changed(
        package.ecosystem, before.version if before else "", after.version if after else ""
    )
    is_direct = package.ecosystem is Ecosystem.PYTHON and package.name in direct
    rule = _package_rule(table, package, major=major, direct=is_direct, kind=kind)
    return Change(
        subject=_SUBJECT[package.ecosystem],
        name=package.name,
        environment=package.environment,
        kind=kind,
        old=before.version if before else None,
        new=after.version if after else None,
        risk=rule.risk,
        reason=rule.reason,
        rule=rule.name,
    )


def _version_change(before: Package | None, after: Package | None) -> ChangeKind | None:
    if before is None:
        return ChangeKind.ADDED
    if after is None:
        return ChangeKind.REMOVED
    order = compare_versions(before.ecosystem, before.version, after.version)
    if order == 0:
        return None
    return ChangeKind.UPGRADED if order < 0 else ChangeKind.DOWNGRADED


def compare_versions(ecosystem: Ecosystem, a: str, b: str) -> int:
    """-1, 0 or 1 as version `a` sorts before, equal to or after `b`; unparsable ones compare
    as text."""
    try:
        if ecosystem is Ecosystem.DEB:
            return compare_debian_versions(a, b)
        va, vb = Version(a), Version(b)
        return (va > vb) - (va < vb)
    except (InvalidVersion, DebianVersionError):
        return (a > b) - (a < b)


def major_of(ecosystem: Ecosystem, version: str) -> tuple[int, ...] | None:
    """The part of a version whose change is a major one: (epoch, major), and the minor too
    while the major is 0 (SemVer: 0.y is unstable). None: not a version we can read."""
    if ecosystem is Ecosystem.DEB:
        m = _DEB_MAJOR.match(version)
        return (int(m["epoch"] or 0), int(m["major"])) if m else None
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    head = (parsed.epoch, parsed.major)
    return (*head, parsed.minor) if parsed.major == 0 else head


def _major_changed(ecosystem: Ecosystem, a: str, b: str) -> bool:
    ma, mb = major_of(ecosystem, a), major_of(ecosystem, b)
    return ma is not None and mb is not None and ma != mb


def _package_rule(
    table: RiskTable, package: Package, *, major: bool, direct: bool, kind: ChangeKind
) -> Rule:
    named = table.for_package(package.ecosystem, package.name)
    if named is not None:
        return named
    if direct and major:
        return table.for_change(ChangeRule.DIRECT_DEPENDENCY)
    if major and kind not in (ChangeKind.ADDED, ChangeKind.REMOVED):
        return table.for_change(ChangeRule.MAJOR_VERSION)
    return table.for_change(ChangeRule.DEFAULT)


def _licence_change(before: Package, after: Package, table: RiskTable) -> list[Change]:
    if before.licences == after.licences:
        return []
    rule = table.for_change(ChangeRule.LICENCE)
    return [
        Change(
            subject=Subject.LICENCE,
            name=after.name,
            environment=after.environment,
            kind=ChangeKind.CHANGED,
            old=" AND ".join(before.licences),
            new=" AND ".join(after.licences),
            risk=rule.risk,
            reason=rule.reason,
            rule=rule.name,
            detail=f"{after.ecosystem.value} {after.version}",
        )
    ]


# --- CUDA, the driver, model artifacts -------------------------------------------------------


def cuda_changes(old: Snapshot, new: Snapshot, table: RiskTable) -> list[Change]:
    changes: list[Change] = []
    if old.cuda != new.cuda:
        same_major = (
            old.cuda is not None and new.cuda is not None and _major(old.cuda) == _major(new.cuda)
        )
        rule = table.for_change(ChangeRule.CUDA_MINOR if same_major else ChangeRule.CUDA_MAJOR)
        changes.append(_simple(Subject.CUDA, "cuda", old.cuda, new.cuda, rule))
    if old.min_driver != new.min_driver:
        rule = table.for_change(ChangeRule.DRIVER)
        driver = _simple(Subject.DRIVER, "nvidia-driver", old.min_driver, new.min_driver, rule)
        changes.append(driver)
    return changes


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def _simple(subject: Subject, name: str, old: str | None, new: str | None, rule: Rule) -> Change:
    if old is None or new is None:
        kind = ChangeKind.ADDED if old is None else ChangeKind.REMOVED
    else:
        older = _numbers(old) < _numbers(new)
        kind = ChangeKind.UPGRADED if older else ChangeKind.DOWNGRADED
    return Change(
        subject=subject,
        name=name,
        kind=kind,
        old=old,
        new=new,
        risk=rule.risk,
        reason=rule.reason,
        rule=rule.name,
    )


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def artifact_changes(old: Snapshot, new: Snapshot, table: RiskTable) -> list[Change]:
    rule = table.for_change(ChangeRule.ARTIFACT)
    olds = {a.name: a for a in old.artifacts}
    news = {a.name: a for a in new.artifacts}
    changes: list[Change] = []
    for name in sorted(olds.keys() | news.keys()):
        before, after = olds.get(name), news.get(name)
        either = after or before
        if either is None or (before and after and before.sha256 == after.sha256):
            continue
        kind = (
            ChangeKind.ADDED
            if before is None
            else ChangeKind.REMOVED
            if after is None
            else ChangeKind.CHANGED
        )
        changes.append(
            Change(
                subject=Subject.ARTIFACT,
                name=name,
                environment=either.path,
                kind=kind,
                old=_sha(before.sha256) if before else None,
                new=_sha(after.sha256) if after else None,
                risk=rule.risk,
                reason=rule.reason,
                rule=rule.name,
            )
        )
    return changes


def _sha(value: str | None) -> str:
    return f"sha256:{value}" if value else "(missing from the image)"
