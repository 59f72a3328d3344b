"""Severity of a vulnerability: the CVSS v3 base score from its vector when a record has one,
else the database's own rating (`database_specific.severity`), else unknown.

Qualitative ratings follow CVSS v3.1 section 5: 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high,
9.0-10.0 critical (0.0, "none", is reported as low: it is still a published vulnerability).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from imagekit.vulns.cvss import CvssError, parse_v3
from imagekit.vulns.osv import SeverityScore

CVSS_V3 = "CVSS_V3"


class Level(enum.StrEnum):
    UNKNOWN = "unknown"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


_DATABASE_NAMES = {
    "LOW": Level.LOW,
    "MODERATE": Level.MEDIUM,  # GitHub's word for medium
    "MEDIUM": Level.MEDIUM,
    "HIGH": Level.HIGH,
    "CRITICAL": Level.CRITICAL,
}


def level_of_score(score: float) -> Level:
    if score >= 9.0:
        return Level.CRITICAL
    if score >= 7.0:
        return Level.HIGH
    if score >= 4.0:
        return Level.MEDIUM
    return Level.LOW


@dataclass(frozen=True, slots=True, kw_only=True)
class Rating:
    """A severity and what it was derived from."""

    level: Level
    score: float | None = None
    vector: str | None = None
    source: str = "none"  # "cvss" | "database" | "none"

    def sort_key(self) -> tuple[int, float]:
        return self.level.rank, self.score if self.score is not None else -1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "level": self.level.value,
            "score": self.score,
            "vector": self.vector,
            "source": self.source,
        }


UNRATED = Rating(level=Level.UNKNOWN)


def rate(
    scores: Iterable[SeverityScore], database_severity: str | None
) -> tuple[Rating, tuple[str, ...]]:
    """The highest CVSS v3 rating among `scores`, else the database's rating, else unknown; and
    the problems met (an invalid vector, an unknown database rating)."""
    problems: list[str] = []
    ratings: list[Rating] = []
    for entry in scores:
        if entry.type != CVSS_V3:
            continue
        try:
            cvss = parse_v3(entry.score)
        except CvssError as e:
            problems.append(str(e))
            continue
        score = cvss.base_score
        ratings.append(
            Rating(level=level_of_score(score), score=score, vector=cvss.vector, source="cvss")
        )
    if ratings:
        return max(ratings, key=Rating.sort_key), tuple(problems)
    if database_severity:
        named = _DATABASE_NAMES.get(database_severity.strip().upper())
        if named:
            return Rating(level=named, source="database"), tuple(problems)
        problems.append(f"database_specific.severity {database_severity!r} is not a known rating")
    return UNRATED, tuple(problems)
