"""The OSV evaluation algorithm (schema section "Evaluation"), case by case.

The range cases are the schema's own examples, applied to a made-up package so that each one
tests one rule; the real advisories are tested at the end and in test_vulns_scan.py.
"""

from __future__ import annotations

import pytest
from _vulns_support import pypi, record

from imagekit.vulns import Component, OsvRecord, Package
from imagekit.vulns.match import ecosystem_matches, evaluate

Events = list[dict[str, str]]


def advisory(
    *ranges: tuple[str, Events], versions: tuple[str, ...] = (), name: str = "example"
) -> OsvRecord:
    """A record for one PyPI package with the given (type, events) ranges."""
    return OsvRecord.from_dict(
        {
            "id": "TEST-1",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": name},
                    "ranges": [{"type": t, "events": e} for t, e in ranges],
                    "versions": list(versions),
                }
            ],
        },
        origin="test",
    )


def affected(rec: OsvRecord, version: str, name: str = "example") -> bool:
    match, _ = evaluate(rec, pypi(name, version))
    return match is not None


@pytest.mark.parametrize(("version", "hit"), [("0.0.1", True), ("1.0", True), ("99", True)])
def test_introduced_zero_affects_everything(version: str, hit: bool) -> None:
    assert affected(advisory(("ECOSYSTEM", [{"introduced": "0"}])), version) is hit


@pytest.mark.parametrize(
    ("version", "hit"), [("1.0.1", True), ("1.0.2rc1", True), ("1.0.2", False), ("2.0", False)]
)
def test_introduced_zero_fixed(version: str, hit: bool) -> None:
    rec = advisory(("ECOSYSTEM", [{"introduced": "0"}, {"fixed": "1.0.2"}]))
    assert affected(rec, version) is hit


@pytest.mark.parametrize(
    ("version", "hit"), [("0.9", False), ("1.0.0", True), ("1.4", True), ("1.5", False)]
)
def test_introduced_is_inclusive_fixed_exclusive(version: str, hit: bool) -> None:
    rec = advisory(("ECOSYSTEM", [{"introduced": "1.0.0"}, {"fixed": "1.5"}]))
    assert affected(rec, version) is hit


@pytest.mark.parametrize(
    ("version", "hit"), [("2.1.214", True), ("2.1.213", True), ("2.1.215", False)]
)
def test_last_affected_is_inclusive(version: str, hit: bool) -> None:
    rec = advisory(("ECOSYSTEM", [{"introduced": "0"}, {"last_affected": "2.1.214"}]))
    assert affected(rec, version) is hit


MULTIPLE = [
    {"introduced": "1.0.0"},
    {"fixed": "1.0.2"},
    {"introduced": "3.0.0"},
    {"fixed": "3.2.5"},
]


@pytest.mark.parametrize(
    ("version", "hit"),
    [("0.9", False), ("1.0.1", True), ("1.0.2", False), ("2.9", False), ("3.1", True)],
)
def test_multiple_intervals_in_one_range(version: str, hit: bool) -> None:
    rec = advisory(("ECOSYSTEM", MULTIPLE))
    assert affected(rec, version) is hit


@pytest.mark.parametrize(("version", "hit"), [("1.0.1", True), ("3.1", True), ("3.2.5", False)])
def test_unsorted_events_are_sorted_by_version(version: str, hit: bool) -> None:
    shuffled = [MULTIPLE[3], MULTIPLE[0], MULTIPLE[2], MULTIPLE[1]]
    assert affected(advisory(("ECOSYSTEM", shuffled)), version) is hit


def test_events_sort_by_version_not_by_text() -> None:
    # As text "10.0" < "9.0"; as versions it is the other way round.
    rec = advisory(("ECOSYSTEM", [{"fixed": "10.0"}, {"introduced": "9.0"}]))
    assert affected(rec, "9.5")
    assert not affected(rec, "10.0")


@pytest.mark.parametrize(
    ("version", "hit"), [("0.5", False), ("1.0", True), ("2.5", True), ("4.0", False)]
)
def test_multiple_ranges_any_one_affects(version: str, hit: bool) -> None:
    rec = advisory(
        ("ECOSYSTEM", [{"introduced": "1.0"}, {"fixed": "2.0"}]),
        ("ECOSYSTEM", [{"introduced": "2.5"}, {"last_affected": "3.0"}]),
    )
    assert affected(rec, version) is hit


@pytest.mark.parametrize(("version", "hit"), [("1.5", True), ("2.0", False), ("2.5", False)])
def test_limit_bounds_the_range(version: str, hit: bool) -> None:
    rec = advisory(("ECOSYSTEM", [{"introduced": "1.0"}, {"limit": "2.0"}]))
    assert affected(rec, version) is hit


def test_limit_star_is_infinity_and_several_limits_widen() -> None:
    assert affected(advisory(("ECOSYSTEM", [{"introduced": "0"}, {"limit": "*"}])), "999")
    rec = advisory(("ECOSYSTEM", [{"introduced": "0"}, {"limit": "1.0"}, {"limit": "3.0"}]))
    assert affected(rec, "2.0")
    assert not affected(rec, "3.0")


def test_versions_list_alone() -> None:
    rec = advisory(versions=("1.0", "1.2"))
    assert affected(rec, "1.2")
    assert affected(rec, "1.0.0")  # PEP 440: 1.0.0 is 1.0
    assert not affected(rec, "1.1")


def test_git_ranges_are_left_to_the_versions_list() -> None:
    rec = advisory(("GIT", [{"introduced": "0"}, {"fixed": "1fe1bb49"}]), versions=("1.0",))
    assert affected(rec, "1.0")
    assert not affected(rec, "0.9")


def test_semver_range_uses_semver_precedence() -> None:
    rec = advisory(("SEMVER", [{"introduced": "1.0.0-rc.1"}, {"fixed": "1.0.0"}]))
    assert affected(rec, "1.0.0rc1") is False  # PEP 440 spelling is not SemVer: not evaluated
    assert affected(rec, "1.0.0-rc.2")


def test_event_the_ordering_cannot_read_is_reported_not_guessed() -> None:
    rec = advisory(("ECOSYSTEM", [{"introduced": "0"}, {"fixed": "2.x"}]))
    match, problems = evaluate(rec, pypi("example", "1.0"))
    assert match is None
    assert [p.message for p in problems] == [
        "ranges[0] (ECOSYSTEM) cannot be evaluated: '2.x' is not a PEP 440 version"
    ]


def test_pypi_names_are_canonicalised() -> None:
    rec = advisory(("ECOSYSTEM", [{"introduced": "0"}]), name="Scikit_Learn")
    assert affected(rec, "1.0", name="scikit-learn")


@pytest.mark.parametrize(
    ("record_eco", "package_eco", "hit"),
    [
        ("Debian:12", "Debian:12", True),
        ("Debian", "Debian:12", True),
        ("Debian:11", "Debian:12", False),
        ("PyPI", "Debian:12", False),
    ],
)
def test_ecosystem_release_suffix(record_eco: str, package_eco: str, hit: bool) -> None:
    assert ecosystem_matches(record_eco, package_eco) is hit


# --- real advisories ---------------------------------------------------------------------------


def test_real_fixed_range_and_fixed_versions() -> None:
    match, _ = evaluate(record("GHSA-47fc-vmwq-366v"), pypi("torch", "1.13.0"))
    assert match is not None and match.fixed == ("1.13.1",)
    assert evaluate(record("GHSA-47fc-vmwq-366v"), pypi("torch", "1.13.1"))[0] is None


def test_real_last_affected_has_no_fixed_version() -> None:
    match, _ = evaluate(record("GHSA-887c-mr87-cxwp"), pypi("torch", "2.7.1"))
    assert match is not None and match.fixed == ()
    assert evaluate(record("GHSA-887c-mr87-cxwp"), pypi("torch", "2.8.0"))[0] is None


def test_real_withdrawn_advisory_never_matches() -> None:
    withdrawn = record("GHSA-4vmg-rw8f-92f9")
    assert withdrawn.withdrawn
    assert evaluate(withdrawn, pypi("torch", "2.0.0")) == (None, ())


def test_real_versions_list_matches_another_spelling() -> None:
    # PYSEC-2023-227 lists "3.1.0.rc1"; an installation says "3.1.0rc1".
    match, _ = evaluate(record("PYSEC-2023-227"), pypi("Pillow", "3.1.0rc1"))
    assert match is not None


def test_real_debian_record_matches_the_source_package() -> None:
    openssl = Package(
        ecosystem="Debian:12",
        name="openssl",
        version="3.0.11-1~deb12u1",
        components=(Component(name="libssl3", version="3.0.11-1~deb12u1"),),
    )
    match, _ = evaluate(record("DSA-5532-1"), openssl)
    assert match is not None and match.fixed == ("3.0.11-1~deb12u2",)
    fixed = Package(
        ecosystem="Debian:12", name="openssl", version="3.0.11-1~deb12u2", components=()
    )
    assert evaluate(record("DSA-5532-1"), fixed)[0] is None
    other_release = Package(
        ecosystem="Debian:11", name="openssl", version="1.1.1w-0", components=()
    )
    assert evaluate(record("DSA-5532-1"), other_release)[0] is None
