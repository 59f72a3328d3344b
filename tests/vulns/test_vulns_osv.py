"""Parsing OSV records into dataclasses, and back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _vulns_support import MALFORMED, RECORDS, record

from imagekit.vulns.osv import EventKind, OsvFormatError, OsvRecord, RangeType


@pytest.mark.parametrize("path", sorted(RECORDS.glob("*.json")), ids=lambda p: p.stem)
def test_every_fixture_round_trips(path: Path) -> None:
    parsed = record(path.stem)
    again = OsvRecord.from_dict(parsed.to_dict(), origin=parsed.origin)
    assert again == parsed


def test_fields_of_a_real_pypa_record() -> None:
    pysec = record("PYSEC-2023-227")
    assert pysec.id == "PYSEC-2023-227"
    assert pysec.aliases == ("CVE-2023-44271",)
    assert pysec.ids == {"PYSEC-2023-227", "CVE-2023-44271"}
    (affected,) = pysec.affected
    assert (affected.ecosystem, affected.name) == ("PyPI", "pillow")
    assert [r.range_type for r in affected.ranges] == [RangeType.GIT, RangeType.ECOSYSTEM]
    assert affected.ranges[0].repo == "https://github.com/python-pillow/Pillow"
    assert [(e.kind, e.version) for e in affected.ranges[1].events] == [
        (EventKind.INTRODUCED, "0"),
        (EventKind.FIXED, "10.0.0"),
    ]
    assert "3.1.0.rc1" in affected.versions and "9.5.0" in affected.versions


def test_severity_and_database_specific_of_a_ghsa() -> None:
    ghsa = record("GHSA-887c-mr87-cxwp")
    assert [s.type for s in ghsa.severity] == ["CVSS_V3", "CVSS_V4"]
    assert ghsa.database_severity == "MODERATE"
    assert ghsa.affected[0].ranges[0].events[-1].kind is EventKind.LAST_AFFECTED


def test_withdrawn_is_kept() -> None:
    assert record("GHSA-4vmg-rw8f-92f9").withdrawn == "2025-04-02T13:31:15Z"


def test_related_is_not_an_alias() -> None:
    pysec = record("PYSEC-2023-175")
    assert pysec.related == ("CVE-2023-4863",)
    assert pysec.ids == {"PYSEC-2023-175"}


def test_truncated_record_is_not_json() -> None:
    with pytest.raises(OsvFormatError, match=r"^malformed JSON: Unterminated string"):
        OsvRecord.from_json(
            (MALFORMED / "truncated.GHSA-8ghj-p4vj-mr35.json").read_bytes(), origin="x"
        )


def test_event_with_two_keys_names_its_path() -> None:
    data = (MALFORMED / "two-keys-in-event.PYSEC-2023-175.json").read_bytes()
    with pytest.raises(
        OsvFormatError,
        match=r"^affected\[0\]\.ranges\[0\]\.events\[0\] must have exactly one of introduced, "
        r"fixed, last_affected, limit \(has fixed, introduced\)$",
    ):
        OsvRecord.from_json(data, origin="x")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, r"^id is missing"),
        ({"aliases": "CVE-2023-44271"}, r"^aliases must be an array, got a string$"),
        ({"affected": [{"package": {"ecosystem": "PyPI"}}]}, r"^affected\[0\]\.package\.name is"),
        ({"affected": {"package": {}}}, r"^affected must be an array, got an object$"),
        ({"severity": [{"type": "CVSS_V3"}]}, r"^severity\[0\]\.score is missing"),
    ],
)
def test_schema_violations_name_the_json_path(change: dict[str, object], message: str) -> None:
    data = json.loads((RECORDS / "GHSA-8ghj-p4vj-mr35.json").read_text()) | change
    with pytest.raises(OsvFormatError, match=message):
        OsvRecord.from_dict(data, origin="x")


def test_fixed_and_last_affected_in_one_range_is_invalid() -> None:
    data = json.loads((RECORDS / "GHSA-887c-mr87-cxwp.json").read_text())
    data["affected"][0]["ranges"][0]["events"].append({"fixed": "2.8.0"})
    with pytest.raises(OsvFormatError, match=r"has both fixed and last_affected events$"):
        OsvRecord.from_dict(data, origin="x")


def test_a_record_is_an_object() -> None:
    with pytest.raises(OsvFormatError, match=r"^the record must be an object$"):
        OsvRecord.from_json(b"[]", origin="x")


def test_affected_without_package_is_kept_but_names_nothing() -> None:
    data = {"id": "CVE-2023-44271", "affected": [{"ranges": [{"type": "GIT", "events": []}]}]}
    parsed = OsvRecord.from_dict(data, origin="x")
    assert parsed.affected[0].ecosystem is None
    assert OsvRecord.from_dict(parsed.to_dict(), origin="x") == parsed
