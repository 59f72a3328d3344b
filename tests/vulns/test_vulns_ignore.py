"""The ignore file: reasons and end dates required, every problem reported at once."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from imagekit.errors import InputError
from imagekit.vulns import AnalysisState, IgnoreFileError, Justification, load_ignores

GOOD = """
[[ignore]]
id = "GHSA-8ghj-p4vj-mr35"
reason = "ImageFont never gets user text in this model"
expires = 2026-12-31

[[ignore]]
id = "CVE-2025-3730"
reason = "ctc_loss is not used"
expires = 2025-01-31
state = "false_positive"
justification = "code_not_reachable"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ignore.toml"
    path.write_text(text)
    return path


def test_rules_are_read(tmp_path: Path) -> None:
    first, second = load_ignores(write(tmp_path, GOOD))
    assert first.id == "GHSA-8ghj-p4vj-mr35"
    assert first.expires == datetime.date(2026, 12, 31)
    assert first.state is AnalysisState.NOT_AFFECTED and first.justification is None
    assert str(first.location) == f"{tmp_path}/ignore.toml: ignore[0]"
    assert second.state is AnalysisState.FALSE_POSITIVE
    assert second.justification is Justification.CODE_NOT_REACHABLE


def test_expiry_is_inclusive(tmp_path: Path) -> None:
    rule = load_ignores(write(tmp_path, GOOD))[0]
    assert not rule.expired(datetime.date(2026, 12, 31))
    assert rule.expired(datetime.date(2027, 1, 1))


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[ignore]]
id = "CVE-2023-44271"
expires = 2026-12-31

[[ignore]]
id = "CVE-2023-5363"
reason = "no TLS in this model"

[[ignore]]
id = "CVE-2022-45907"
reason = "old torch is pinned by the vendor"
expires = "2026-12-31"

[[ignore]]
id = "CVE-2022-21797"
reason = "x"
expires = 2026-12-31T10:00:00
state = "fixed"
until = 2026-01-01
""",
    )
    with pytest.raises(IgnoreFileError) as caught:
        load_ignores(path)
    assert caught.value.exit_code == 2
    assert [str(f) for f in caught.value.findings] == [
        f"{path}: ignore[0].reason: required key is missing [input] (fix: add `reason = ...` (a string))",
        f"{path}: ignore[1].expires: required key is missing: an ignore must end [input] (fix: add `expires = 2026-12-31` (a TOML date, unquoted))",
        f"{path}: ignore[2].expires: must be a TOML date like 2026-12-31, got '2026-12-31' [input] (fix: write the date unquoted, without a time)",
        f"{path}: ignore[3].until: unknown key [input] (fix: remove it or fix its spelling)",
    ]


def test_bad_state_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[ignore]]\nid = "X"\nreason = "r"\nexpires = 2026-01-01\nstate = "fixed"\n',
    )
    with pytest.raises(IgnoreFileError) as caught:
        load_ignores(path)
    assert str(caught.value) == (
        f"{path}: ignore[0].state: 'fixed' is not one of not_affected, false_positive [input] "
        "(fix: use one)"
    )


def test_top_level_must_be_ignore_tables(tmp_path: Path) -> None:
    path = write(tmp_path, 'ignores = []\nignore = "CVE-1"\n')
    with pytest.raises(IgnoreFileError) as caught:
        load_ignores(path)
    assert [f.message for f in caught.value.findings] == [
        "unknown key",
        "must be an array, got a string",
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_ignores(tmp_path / "nope.toml")
