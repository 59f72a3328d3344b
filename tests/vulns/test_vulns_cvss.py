"""CVSS v3 base scores from vectors, and the severity of a record."""

from __future__ import annotations

import pytest
from _vulns_support import record

from imagekit.vulns.cvss import CvssError, parse_v3, roundup
from imagekit.vulns.osv import SeverityScore
from imagekit.vulns.severity import Level, level_of_score, rate


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),  # GHSA-47fc-vmwq-366v
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),  # GHSA-8ghj-p4vj-mr35
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:L", 3.3),  # GHSA-887c-mr87-cxwp
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),  # GHSA-4vmg-rw8f-92f9
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),  # CVE-2023-5363 (NVD)
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 6.8),  # the OSV schema's example
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),  # capped at 10
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),  # PR:L weighs 0.68 when S:C
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N", 4.8),  # PR:H weighs 0.5 when S:C
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),  # no impact
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O", 9.8),  # temporal: base unchanged
    ],
)
def test_base_scores(vector: str, score: float) -> None:
    assert parse_v3(vector).base_score == score


def test_roundup_is_exact_for_floating_point() -> None:
    assert roundup(4.000000000000001) == 4.0  # the CVSS 3.1 Appendix A example
    assert roundup(4.02) == 4.1
    assert roundup(4.0) == 4.0


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "is not a CVSS v3 vector"),
        ("CVSS:2.0/AV:N/AC:L", "is not a CVSS v3 vector"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "lacks base metric"),
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV:X is not a valid value"),
        ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "bad or repeated metric"),
    ],
)
def test_invalid_vectors(vector: str, message: str) -> None:
    with pytest.raises(CvssError, match=message):
        parse_v3(vector)


def test_cvss_wins_over_the_database_word() -> None:
    ghsa = record("GHSA-887c-mr87-cxwp")  # CVSS 3.3 (low), database says MODERATE
    rating, problems = rate(ghsa.severity, ghsa.database_severity)
    assert (rating.level, rating.score, rating.source) == (Level.LOW, 3.3, "cvss")
    assert problems == ()


def test_database_rating_without_a_vector() -> None:
    rating, _ = rate([SeverityScore(type="CVSS_V4", score="CVSS:4.0/AV:N")], "MODERATE")
    assert (rating.level, rating.score, rating.source) == (Level.MEDIUM, None, "database")


def test_no_rating_is_unknown_and_a_bad_vector_is_reported() -> None:
    rating, problems = rate([SeverityScore(type="CVSS_V3", score="CVSS:3.1/AV:Q")], None)
    assert rating.level is Level.UNKNOWN
    assert (len(problems) == 1 and "is not a valid value" in problems[0]) or "lacks" in problems[0]


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.1, Level.LOW),
        (3.9, Level.LOW),
        (4.0, Level.MEDIUM),
        (6.9, Level.MEDIUM),
        (7.0, Level.HIGH),
        (8.9, Level.HIGH),
        (9.0, Level.CRITICAL),
    ],
)
def test_qualitative_ratings(score: float, level: Level) -> None:
    assert level_of_score(score) is level
