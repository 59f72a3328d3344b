"""Known vulnerabilities of a lock or an image, through `imagekit scan`'s matcher, for
`imagekit update --security-only` and the update report."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from imagekit.project.lockfile import Lock
from imagekit.vulns import Component, Package, ScanReport, Target, choose_sources, load_target, scan
from imagekit.vulns.interface import PYPI


@dataclass(frozen=True, slots=True, kw_only=True)
class Vulnerable:
    """A locked package with known vulnerabilities, and the versions that fix them."""

    name: str
    version: str
    ids: tuple[str, ...]
    fixed: tuple[str, ...]

    @property
    def requirement(self) -> str:
        """What uv may upgrade it to: at least the lowest fix above the current version."""
        above = sorted(v for v in (_version(f) for f in self.fixed) if v and v > _floor(self))
        return f"{self.name}>={above[0]}" if above else self.name

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "ids": list(self.ids),
            "fixed": list(self.fixed),
        }


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _floor(item: Vulnerable) -> Version:
    return _version(item.version) or Version("0")


def lock_target(lock: Lock) -> Target:
    """The PyPI packages a lock pins, as a scan target."""
    packages = tuple(
        Package(
            ecosystem=PYPI,
            name=pkg.name,
            version=str(pkg.version),
            components=(Component(name=pkg.raw_name, version=str(pkg.version)),),
        )
        for pkg in lock.packages
        if pkg.version is not None
    )
    return Target(reference=str(lock.path), packages=packages)


def scan_with(target: Target, osv: Path) -> ScanReport:
    """Scan `target` against an OSV export; raises `VulnError` for unreadable data."""
    sources = choose_sources(osv=(osv,), online=False)
    return scan(target, sources, today=datetime.datetime.now(tz=datetime.UTC).date())


def vulnerable_in(lock: Lock, osv: Path) -> tuple[Vulnerable, ...]:
    """The lock's packages with active findings, one entry per package."""
    found: dict[str, Vulnerable] = {}
    for finding in scan_with(lock_target(lock), osv).active:
        pkg = finding.package
        before = found.get(pkg.name)
        found[pkg.name] = Vulnerable(
            name=pkg.name,
            version=pkg.version,
            ids=tuple(sorted({*(before.ids if before else ()), finding.id})),
            fixed=tuple(sorted({*(before.fixed if before else ()), *finding.fixed})),
        )
    return tuple(found[name] for name in sorted(found))


def image_scan_summary(image: str, osv: Path) -> str:
    """One line: the image's active vulnerabilities by severity."""
    target, _ = load_target(image)
    report = scan_with(target, osv)
    counts: dict[str, int] = {}
    for finding in report.active:
        counts[finding.rating.level.value] = counts.get(finding.rating.level.value, 0) + 1
    detail = ", ".join(f"{n} {level}" for level, n in sorted(counts.items()))
    return f"{len(report.active)} known vulnerabilities" + (f" ({detail})" if detail else "")
