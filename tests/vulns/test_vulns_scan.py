"""Scanning hand-built installations of real package versions against the real advisories."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from _vulns_support import OLD_ML_IMAGE, RECORDS, deb, dist, inventory

from imagekit.errors import Location
from imagekit.inventory.model import Inventory, OsRelease
from imagekit.sbom import render_sbom
from imagekit.vulns import (
    IgnoreRule,
    Justification,
    Level,
    ScanReport,
    choose_sources,
    from_inventory,
    scan,
)
from imagekit.vulns.cyclonedx import render, with_vulnerabilities

TODAY = datetime.date(2026, 6, 1)


def run(inv: Inventory = OLD_ML_IMAGE, ignores: tuple[IgnoreRule, ...] = ()) -> ScanReport:
    target = from_inventory(inv)
    return scan(target, choose_sources(osv=[RECORDS], online=False), ignores=ignores, today=TODAY)


def rows(report: ScanReport) -> list[tuple[str, str, str, tuple[str, ...], str, tuple[str, ...]]]:
    return [
        (f.package.name, f.package.version, f.id, f.aliases, f.rating.level.value, f.fixed)
        for f in report.findings
    ]


def test_old_ml_image_lists_each_vulnerability_once_with_its_fixes() -> None:
    report = run()
    assert rows(report) == [
        (
            "torch",
            "1.13.0",
            "CVE-2022-45907",
            ("GHSA-47fc-vmwq-366v", "PYSEC-2022-43015"),
            "critical",
            ("1.13.1",),
        ),
        (
            "pillow",
            "9.5.0",
            "CVE-2023-44271",
            ("GHSA-8ghj-p4vj-mr35", "PYSEC-2023-227"),
            "high",
            ("10.0.0",),
        ),
        ("torch", "1.13.0", "CVE-2025-3730", ("GHSA-887c-mr87-cxwp",), "low", ()),
        ("joblib", "1.1.0", "CVE-2022-21797", ("PYSEC-2022-288",), "unknown", ("1.2.0",)),
        ("numpy", "1.19.0", "CVE-2021-41495", ("PYSEC-2021-856",), "unknown", ("1.19.1",)),
        (
            "openssl",
            "3.0.11-1~deb12u1",
            "CVE-2023-5363",
            ("DSA-5532-1",),
            "unknown",
            ("3.0.11-1~deb12u2",),
        ),
        ("pillow", "9.5.0", "PYSEC-2023-175", (), "unknown", ("10.0.1",)),
        ("scikit-learn", "0.23.0", "CVE-2020-13092", ("PYSEC-2020-107",), "unknown", ("0.23.1",)),
    ]
    assert report.warnings == ()
    assert report.packages == 7  # 5 distributions, the openssl and glibc source packages


def test_withdrawn_advisory_is_not_reported() -> None:
    ids = {i for f in run().findings for i in f.ids}
    assert "GHSA-4vmg-rw8f-92f9" not in ids and "CVE-2024-7804" not in ids


def test_debian_finding_names_the_binary_packages() -> None:
    (openssl,) = [f for f in run().findings if f.package.name == "openssl"]
    assert openssl.package.ecosystem == "Debian:12"
    assert [c.name for c in openssl.package.components] == ["libssl3", "openssl"]
    assert openssl.package.display_name == "libssl3, openssl (openssl)"


def test_the_highest_severity_of_merged_records_wins() -> None:
    (torch,) = [f for f in run().findings if f.id == "CVE-2022-45907"]
    assert (torch.rating.score, torch.rating.vector) == (
        9.8,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    )
    assert [r.id for r in torch.records] == ["GHSA-47fc-vmwq-366v", "PYSEC-2022-43015"]
    assert torch.summary == "PyTorch vulnerable to arbitrary code execution"


@pytest.mark.parametrize(
    ("version", "ids"),
    [
        ("10.0.0", ["PYSEC-2023-175"]),  # CVE-2023-44271 is fixed in 10.0.0, the libwebp one is not
        ("10.0.1", []),
        ("3.1.0rc1", ["CVE-2023-44271", "PYSEC-2023-175"]),
    ],
)
def test_pillow_versions_around_the_fixes(version: str, ids: list[str]) -> None:
    report = run(inventory(python=(dist("Pillow", version),)))
    assert sorted(f.id for f in report.findings) == ids


def test_non_pep440_version_is_reported_and_matched_only_by_exact_versions() -> None:
    # PYSEC-2022-288 lists "0.3.2d" among the affected joblib versions.
    report = run(inventory(python=(dist("joblib", "0.3.2d"), dist("numpy", "1.19.x"))))
    assert [f.id for f in report.findings] == ["CVE-2022-21797"]
    assert [str(w) for w in report.warnings] == [
        "scan-test/hand-built:1: PyPI/joblib: joblib 0.3.2d: '0.3.2d' is not a PEP 440 version; only advisories that list this exact version can match it [osv-match] (fix: install a release with a standard version, or check its advisories by hand)",
        "scan-test/hand-built:1: PyPI/numpy: numpy 1.19.x: '1.19.x' is not a PEP 440 version; only advisories that list this exact version can match it [osv-match] (fix: install a release with a standard version, or check its advisories by hand)",
    ]


def test_non_debian_os_packages_are_not_scanned_and_say_so() -> None:
    alpine = OsRelease(
        id="alpine", version_id="3.20.0", codename="", pretty_name="Alpine Linux v3.20"
    )
    report = run(inventory(debs=(deb("openssl", "3.0.11-1~deb12u1"),), release=alpine))
    assert report.findings == ()
    assert "1 .deb packages of Alpine Linux v3.20 are not scanned" in str(report.warnings[0])


def rule(vuln_id: str, expires: datetime.date, **extra: object) -> IgnoreRule:
    return IgnoreRule(
        id=vuln_id,
        reason="accepted by the model owner",
        expires=expires,
        location=Location(file=Path("ignore.toml"), key="ignore[0]"),
        **extra,  # type: ignore[arg-type]
    )


def test_ignore_by_alias_and_expired_ignore() -> None:
    live = rule("GHSA-8ghj-p4vj-mr35", datetime.date(2026, 12, 31))
    expired = rule("CVE-2022-45907", datetime.date(2026, 5, 31))
    unused = rule("CVE-1999-0001", datetime.date(2026, 12, 31))
    report = run(ignores=(live, expired, unused))
    (ignored,) = report.ignored
    assert (ignored.id, ignored.ignored_by) == ("CVE-2023-44271", live)
    assert "CVE-2022-45907" in {f.id for f in report.active}
    assert report.expired == (expired,)
    assert [str(w) for w in report.warnings] == [
        "ignore.toml: ignore[0]: the ignore of CVE-2022-45907 expired on 2026-05-31; it is reported again [vuln-ignore] (fix: fix the vulnerability, or renew the ignore with a new date and reason)",
        "ignore.toml: ignore[0]: CVE-1999-0001 is ignored but no finding has that id or alias [vuln-ignore] (fix: remove the entry if the vulnerability is gone)",
    ]


def test_failing_thresholds_count_unknown_severity() -> None:
    only_low = run(inventory(python=(dist("torch", "2.7.1"),)))
    assert [f.id for f in only_low.findings] == ["CVE-2025-3730"]
    assert only_low.failing(Level.LOW) == only_low.findings
    assert only_low.failing(Level.MEDIUM) == ()
    joblib = run(inventory(python=(dist("joblib", "1.1.0"),)))
    assert joblib.failing(Level.CRITICAL) == joblib.findings  # unknown: not known to be below


def test_report_json() -> None:
    data = run(ignores=(rule("CVE-2023-5363", datetime.date(2026, 12, 31)),)).to_dict()
    assert data["summary"] == {
        "vulnerabilities": 7,
        "ignored": 1,
        "by_severity": {"unknown": 4, "low": 1, "medium": 0, "high": 1, "critical": 1},
    }
    first = data["findings"][0]  # type: ignore[index]
    assert first["id"] == "CVE-2022-45907"
    assert first["severity"] == {
        "level": "critical",
        "score": 9.8,
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "source": "cvss",
    }
    assert first["fixed_versions"] == ["1.13.1"]
    json.dumps(data)


def test_findings_go_into_the_image_sbom_as_valid_cyclonedx() -> None:
    ignore = rule(
        "CVE-2023-5363",
        datetime.date(2026, 12, 31),
        justification=Justification.REQUIRES_CONFIGURATION,
    )
    report = run(ignores=(ignore,))
    image_sbom = json.loads(render_sbom(OLD_ML_IMAGE, reproducible=True))
    doc = json.loads(render(image_sbom, report, "scan-test/hand-built:1"))
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert len(vulns) == 8
    torch = vulns["CVE-2022-45907"]
    assert torch["ratings"] == [
        {
            "source": {"name": "OSV", "url": "https://osv.dev/vulnerability/GHSA-47fc-vmwq-366v"},
            "severity": "critical",
            "score": 9.8,
            "method": "CVSSv31",
            "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        }
    ]
    assert [r["id"] for r in torch["references"]] == ["GHSA-47fc-vmwq-366v", "PYSEC-2022-43015"]
    assert torch["recommendation"] == "Upgrade torch to 1.13.1"
    refs = {c["bom-ref"] for c in doc["components"]}
    for vuln in doc["vulnerabilities"]:
        assert all(a["ref"] in refs for a in vuln["affects"])
    openssl = vulns["CVE-2023-5363"]
    assert [a["ref"] for a in openssl["affects"]] == [
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl",
        "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12",
    ]
    assert openssl["analysis"] == {
        "state": "not_affected",
        "justification": "requires_configuration",
        "detail": "accepted by the model owner (accepted until 2026-12-31, ignore.toml: ignore[0])",
    }
    assert "ratings" not in openssl  # unknown severity: no rating is invented


def test_component_without_bom_ref_gets_its_purl() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {
                "type": "library",
                "name": "torch",
                "version": "1.13.0",
                "purl": "pkg:pypi/torch@1.13.0",
            }
        ],
    }
    out = with_vulnerabilities(doc, run(inventory(python=(dist("torch", "1.13.0"),))))
    assert out["components"][0]["bom-ref"] == "pkg:pypi/torch@1.13.0"
    assert "bom-ref" not in doc["components"][0]  # type: ignore[index]
    assert {a["ref"] for v in out["vulnerabilities"] for a in v["affects"]} == {
        "pkg:pypi/torch@1.13.0"
    }
