"""`imagekit scan`, driven in-process: SBOMs, a root file system, the API, ignores, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fake_osv import FakeOsv, serve
from _vulns_support import MALFORMED, RECORDS
from typer.testing import CliRunner

from imagekit.cli import app

runner = CliRunner()

SBOM: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "components": [
        {
            "type": "library",
            "bom-ref": "pillow-in-venv",
            "name": "Pillow",
            "version": "9.5.0",
            "purl": "pkg:pypi/pillow@9.5.0",
        },
        {
            "type": "library",
            "bom-ref": "libssl3",
            "name": "libssl3",
            "version": "3.0.11-1~deb12u1",
            "purl": "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl",
        },
        {
            "type": "library",
            "bom-ref": "zlib1g",
            "name": "zlib1g",
            "version": "1:1.2.13.dfsg-1",
            "purl": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=bookworm&upstream=zlib%401:1.2.13.dfsg-1",
        },
        {
            "type": "library",
            "bom-ref": "left-pad",
            "name": "left-pad",
            "version": "1.3.0",
            "purl": "pkg:npm/left-pad@1.3.0",
        },
    ],
}


@pytest.fixture
def sbom(tmp_path: Path) -> Path:
    path = tmp_path / "image.cdx.json"
    path.write_text(json.dumps(SBOM))
    return path


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """An image's root file system, read by the real Inventory reader."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
        "Version: 3.0.11-1~deb12u1\n\n"
        "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 3.0.11-1~deb12u1\n"
    )
    site = root / "opt/venv/lib/python3.11/site-packages"
    for name, version in [("torch", "1.13.0"), ("Pillow", "10.0.0")]:
        info = site / f"{name.lower()}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return root


def invoke(*args: str | Path) -> Any:
    return runner.invoke(app, ["scan", *map(str, args)])


def test_sbom_table(sbom: Path) -> None:
    result = invoke(sbom, "--osv", RECORDS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "FIXED", "IN"]
    assert lines[1].split() == [
        "Pillow",
        "9.5.0",
        "CVE-2023-44271",
        "(GHSA-8ghj-p4vj-mr35,",
        "PYSEC-2023-227)",
        "high",
        "7.5",
        "10.0.0",
    ]
    assert lines[2].split() == [
        "libssl3",
        "(openssl)",
        "3.0.11-1~deb12u1",
        "CVE-2023-5363",
        "(DSA-5532-1)",
        "unknown",
        "3.0.11-1~deb12u2",
    ]
    assert lines[3].split() == [
        "Pillow",
        "9.5.0",
        "PYSEC-2023-175",
        "unknown",
        "10.0.1",
    ]
    assert lines[-1] == "3 vulnerabilities in 3 packages (1 high, 2 unknown)"
    assert "1 component(s) of type npm are not scanned" in result.stderr


@pytest.mark.parametrize(("threshold", "count"), [("critical", 2), ("high", 3), ("low", 3)])
def test_fail_on(sbom: Path, threshold: str, count: int) -> None:
    result = invoke(sbom, "--osv", RECORDS, "--fail-on", threshold)
    assert result.exit_code == 1
    assert (
        f"{count} vulnerabilities not ignored at or above {threshold} or of unknown severity "
        "(--fail-on)"
    ) in result.stderr


def test_fail_on_passes_below_the_threshold(tmp_path: Path) -> None:
    doc = SBOM | {
        "components": [
            {"type": "library", "name": "torch", "version": "2.7.1", "purl": "pkg:pypi/torch@2.7.1"}
        ]
    }
    path = tmp_path / "torch.cdx.json"
    path.write_text(json.dumps(doc))
    assert invoke(path, "--osv", RECORDS, "--fail-on", "medium").exit_code == 0
    result = invoke(path, "--osv", RECORDS, "--fail-on", "low")
    assert result.exit_code == 1
    assert "CVE-2025-3730 (GHSA-887c-mr87-cxwp)" in result.stdout


def test_json(sbom: Path) -> None:
    result = invoke(sbom, "--osv", RECORDS, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["id"] for f in data["findings"]] == [
        "CVE-2023-44271",
        "CVE-2023-5363",
        "PYSEC-2023-175",
    ]
    assert data["findings"][1]["package"]["components"] == [
        {"name": "libssl3", "version": "3.0.11-1~deb12u1", "purl": SBOM["components"][1]["purl"]}
    ]
    assert data["sources"] == [str(RECORDS)]


def test_sbom_out_adds_vulnerabilities_to_the_input_sbom(sbom: Path, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.toml"
    ignore.write_text(
        '[[ignore]]\nid = "PYSEC-2023-175"\nreason = "no WebP images are decoded"\n'
        'expires = 2099-12-31\nstate = "not_affected"\njustification = "code_not_reachable"\n'
    )
    out = tmp_path / "out" / "with-vulns.cdx.json"
    result = invoke(sbom, "--osv", RECORDS, "--ignore", ignore, "--sbom-out", out)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["components"] == SBOM["components"]
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert vulns["CVE-2023-44271"]["affects"] == [
        {"ref": "pillow-in-venv", "versions": [{"version": "9.5.0", "status": "affected"}]}
    ]
    assert vulns["CVE-2023-5363"]["affects"][0]["ref"] == "libssl3"
    assert vulns["PYSEC-2023-175"]["analysis"]["state"] == "not_affected"
    assert vulns["PYSEC-2023-175"]["analysis"]["justification"] == "code_not_reachable"
    assert "Ignored:\n  PYSEC-2023-175 in Pillow 9.5.0: no WebP images are decoded" in result.stdout
    assert (
        result.stdout.splitlines()[-1]
        == "2 vulnerabilities in 3 packages (1 high, 1 unknown), 1 ignored"
    )


def test_expired_ignore_is_reported_and_stops_ignoring(sbom: Path, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.toml"
    ignore.write_text('[[ignore]]\nid = "CVE-2023-44271"\nreason = "later"\nexpires = 2020-01-01\n')
    result = invoke(sbom, "--osv", RECORDS, "--ignore", ignore, "--fail-on", "high")
    assert result.exit_code == 1
    assert (
        f"{ignore}: ignore[0]: warning: the ignore of CVE-2023-44271 expired on 2020-01-01; it is reported again [vuln-ignore]"
        in result.stderr
    )
    assert "CVE-2023-44271" in result.stdout and "Ignored:" not in result.stdout


def test_image_root_file_system(rootfs: Path, tmp_path: Path) -> None:
    out = tmp_path / "image.cdx.json"
    result = invoke(rootfs, "--osv", RECORDS, "--sbom-out", out, "--json")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["package"]["name"], f["id"]) for f in findings] == [
        ("torch", "CVE-2022-45907"),
        ("torch", "CVE-2025-3730"),
        ("openssl", "CVE-2023-5363"),
        ("pillow", "PYSEC-2023-175"),  # 10.0.0 fixes CVE-2023-44271, not the libwebp one
    ]
    assert [c["name"] for c in findings[2]["package"]["components"]] == ["libssl3", "openssl"]
    doc = json.loads(out.read_text())
    refs = {c["bom-ref"] for c in doc["components"]}
    assert all(a["ref"] in refs for v in doc["vulnerabilities"] for a in v["affects"])
    assert invoke(rootfs, "--osv", RECORDS, "--fail-on", "critical").exit_code == 1  # torch 9.8


def test_online_against_a_loopback_osv_api(sbom: Path) -> None:
    with serve(FakeOsv(RECORDS)) as url:
        result = invoke(sbom, "--online", "--osv-url", url, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["id"] for f in data["findings"]] == [
        "CVE-2023-44271",
        "CVE-2023-5363",
        "PYSEC-2023-175",
    ]
    assert data["sources"] == [f"OSV API at {url}"]


def test_malformed_records_are_warnings(sbom: Path) -> None:
    result = invoke(sbom, "--osv", RECORDS, "--osv", MALFORMED)
    assert result.exit_code == 0
    assert (
        f"{MALFORMED}/truncated.GHSA-8ghj-p4vj-mr35.json: warning: not a valid OSV record"
        in result.stderr
    )


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["image.cdx.json"], "error: no vulnerability data: give an OSV export with --osv PATH"),
        (["bad.json", "--osv", str(RECORDS)], "error: bad.json:1: not JSON: Expecting value"),
        (
            ["other.json", "--osv", str(RECORDS)],
            'error: other.json: bomFormat: not a CycloneDX SBOM (no "bomFormat": "CycloneDX")',
        ),
        (["image.cdx.json", "--osv", "missing-dir"], "error: missing-dir: OSV export not found"),
        (
            ["requirements.lock", "--osv", str(RECORDS)],
            "error: requirements.lock: a text file (a lockfile) is not an image or a CycloneDX "
            "JSON SBOM (pass an image or a CycloneDX JSON SBOM)",
        ),
        (["missing.cdx.json", "--osv", str(RECORDS)], "error: missing.cdx.json: file not found"),
        (
            ["image.cdx.json", "--osv", str(RECORDS), "--ignore", "bad.toml"],
            "bad.toml: ignore[0].expires: error: required key is missing",
        ),
    ],
)
def test_bad_input_exits_2(cwd: Path, args: list[str], message: str) -> None:
    (cwd / "image.cdx.json").write_text(json.dumps(SBOM))
    (cwd / "bad.json").write_text('{"bomFormat": ')
    (cwd / "other.json").write_text('{"specVersion": "1.6"}')  # neither CycloneDX nor SPDX
    (cwd / "bad.toml").write_text('[[ignore]]\nid = "X"\nreason = "r"\n')
    (cwd / "requirements.lock").write_text("numpy==2.1.0\n")
    result = runner.invoke(app, ["scan", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
