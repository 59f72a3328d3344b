"""Hostile and awkward OSV data: records too large, too deep or with versions no parser takes,
local versions of CUDA builds, and one advisory id in two files."""

from __future__ import annotations

import datetime
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from _vulns_support import RECORDS, pypi, record
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.errors import Finding
from imagekit.limits import MAX_JSON_DOCUMENT
from imagekit.vulns import OsvRecord, Target, evaluate, scan
from imagekit.vulns.export import MAX_RECORD_BYTES, RULE_RECORD, RULE_ZIP_MEMBER, ExportSource
from imagekit.vulns.scan import RULE_DUPLICATE

runner = CliRunner()
PY_RECORD = "PYSEC-2022-42969"  # py <= 1.11.0: last_affected 1.11.0 and a versions list
TORCH_RECORD = "GHSA-887c-mr87-cxwp"  # torch <= 2.7.1: last_affected 2.7.1, no fix
TODAY = datetime.date(2026, 1, 1)


def raw(vuln_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDS / f"{vuln_id}.json").read_text())
    return data


def export(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "osv"
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no disk: a hole, as `truncate -s` makes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.truncate(size)
    return path


def fetch_py(root: Path, version: str = "1.11.0") -> tuple[tuple[OsvRecord, ...], list[Finding]]:
    result = ExportSource([root]).fetch([pypi("py", version)])
    return result.records, list(result.warnings)


def sbom(tmp_path: Path, name: str, version: str) -> Path:
    path = tmp_path / "image.cdx.json"
    component = {
        "type": "library",
        "bom-ref": name,
        "name": name,
        "version": version,
        "purl": f"pkg:pypi/{name}@{version}",
    }
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [component],
            }
        )
    )
    return path


# --- bounds ---------------------------------------------------------------------------------


def test_one_bound_for_record_files_and_zip_members() -> None:
    assert MAX_RECORD_BYTES == MAX_JSON_DOCUMENT


def test_a_3_gb_sparse_file_is_skipped_without_reading_it(tmp_path: Path) -> None:
    root = export(tmp_path, {f"{PY_RECORD}.json": (RECORDS / f"{PY_RECORD}.json").read_bytes()})
    huge = sparse(root / "huge.json", 3 << 30)
    assert huge.stat().st_blocks * 512 < 1 << 20  # a hole: the test costs no disk
    records, warnings = fetch_py(root)
    assert [r.id for r in records] == [PY_RECORD]  # the rest of the export is read
    [warning] = warnings
    assert warning.location.file == huge
    assert warning.rule == RULE_RECORD
    assert warning.message == (
        f"file is larger than {MAX_RECORD_BYTES} bytes, too large for an OSV record; skipped"
    )


def test_a_file_one_byte_over_the_bound_is_skipped_like_a_zip_member(tmp_path: Path) -> None:
    over = MAX_RECORD_BYTES + 1
    root = tmp_path / "osv"
    sparse(root / "over.json", over)
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("over.json", b" " * over)
    result = ExportSource([root, archive]).fetch([pypi("py", "1.11.0")])
    assert [(w.rule, w.location.key) for w in result.warnings] == [
        (RULE_RECORD, None),
        (RULE_ZIP_MEMBER, "over.json"),
    ]
    assert result.warnings[1].message == (
        f"member is {over} bytes, too large for an OSV record; skipped"
    )


def test_a_deeply_nested_record_is_skipped_naming_the_file(tmp_path: Path) -> None:
    deep = b'{"id": "PYSEC-0000-1", "affected": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    root = export(tmp_path, {"deep.json": deep})
    records, [warning] = fetch_py(root)
    assert records == ()
    assert warning.location.file == root / "deep.json"
    assert warning.message == (
        "not a valid OSV record (JSON nested deeper than 128 levels); skipped"
    )


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("events", "affected[0].ranges[0].events[1].last_affected"),
        ("versions", "affected[0].versions[3]"),
    ],
)
def test_a_version_of_5000_digits_skips_the_record_naming_file_and_id(
    tmp_path: Path, where: str, path: str
) -> None:
    data = raw(PY_RECORD)
    digits = "1" * 5000
    if where == "events":
        data["affected"][0]["ranges"][0]["events"][1] = {"last_affected": digits}
    else:
        data["affected"][0]["versions"][3] = digits
    root = export(tmp_path, {"long.json": json.dumps(data).encode()})
    records, [warning] = fetch_py(root)
    assert records == ()
    assert warning.location.file == root / "long.json"
    assert warning.message.startswith(
        f"record {PY_RECORD} is not a valid OSV record ({path}: version of 5000 characters ("
    )
    assert warning.message.endswith(") is longer than 256); skipped")
    assert len(warning.message) < 400  # the 5,000 digits are not echoed


def test_scan_warns_about_a_skipped_record_and_fail_on_fails(tmp_path: Path) -> None:
    root = export(
        tmp_path,
        {
            "deep.json": b'{"id": "PYSEC-0000-1", "affected": ' + b"[" * 500 + b"]" * 500 + b"}",
        },
    )
    target = sbom(tmp_path, "py", "1.11.0")
    plain = runner.invoke(app, ["scan", str(target), "--osv", str(root)])
    assert plain.exit_code == 0, plain.output
    assert f"{root / 'deep.json'}: warning: not a valid OSV record" in plain.stderr
    gated = runner.invoke(app, ["scan", str(target), "--osv", str(root), "--fail-on", "critical"])
    assert gated.exit_code == 1, gated.output
    assert "1 OSV records could not be read, so the scan is incomplete (--fail-on)" in gated.stderr


# --- local versions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vuln_id", "name", "installed", "public"),
    [
        (PY_RECORD, "py", "1.11.0+local1", "1.11.0"),  # last_affected and versions end at it
        (TORCH_RECORD, "torch", "2.7.1+cu126", "2.7.1"),  # last_affected: 2.7.1
    ],
)
def test_a_local_version_is_matched_on_its_public_version(
    vuln_id: str, name: str, installed: str, public: str
) -> None:
    match, problems = evaluate(record(vuln_id), pypi(name, installed))
    assert problems == ()
    assert match is not None
    assert match.public_version == public
    assert match.matched_on == f"matched on public version {public} of {installed}"


def test_a_versions_list_alone_matches_the_public_version() -> None:
    listed = raw(PY_RECORD)
    del listed["affected"][0]["ranges"]
    only_versions = OsvRecord.from_dict(listed, origin="versions-only")
    match, _ = evaluate(only_versions, pypi("py", "1.11.0+local1"))
    assert match is not None and match.public_version == "1.11.0"
    assert evaluate(only_versions, pypi("py", "1.11.1+local1"))[0] is None


def test_a_local_version_the_record_covers_is_a_direct_match() -> None:
    match, _ = evaluate(record(TORCH_RECORD), pypi("torch", "2.5.1+cu124"))  # below 2.7.1
    assert match is not None and match.public_version is None and match.matched_on is None


def test_a_local_version_of_a_later_release_is_not_matched() -> None:
    assert evaluate(record(TORCH_RECORD), pypi("torch", "2.7.2+cu126"))[0] is None


def test_scan_says_which_version_matched(tmp_path: Path) -> None:
    target = sbom(tmp_path, "py", "1.11.0+local1")
    shown = runner.invoke(app, ["scan", str(target), "--osv", str(RECORDS)])
    assert shown.exit_code == 0, shown.output
    assert "CVE-2022-42969 in py: matched on public version 1.11.0 of 1.11.0+local1" in (
        shown.stdout
    )
    as_json = runner.invoke(app, ["scan", str(target), "--osv", str(RECORDS), "--json"])
    [finding] = json.loads(as_json.stdout)["findings"]
    assert finding["matched_on"] == "matched on public version 1.11.0 of 1.11.0+local1"
    out = tmp_path / "out.cdx.json"
    written = runner.invoke(
        app, ["scan", str(target), "--osv", str(RECORDS), "--sbom-out", str(out)]
    )
    assert written.exit_code == 0, written.output  # validated against the CycloneDX schema
    [vulnerability] = json.loads(out.read_text())["vulnerabilities"]
    assert vulnerability["properties"] == [
        {
            "name": "imagekit:vulnerability:matched-on",
            "value": "matched on public version 1.11.0 of 1.11.0+local1",
        }
    ]


# --- one id in two files --------------------------------------------------------------------


def scan_py(root: Path) -> tuple[list[str], list[Finding], list[str]]:
    """(finding ids, warnings, origins of the records used) of py 1.11.0 against `root`."""
    report = scan(
        Target(reference="test", packages=(pypi("py", "1.11.0"),)),
        [ExportSource([root])],
        today=TODAY,
    )
    origins = [r.origin for f in report.findings for r in f.records]
    return [f.id for f in report.findings], list(report.warnings), origins


def test_the_same_record_in_two_files_is_one_finding_without_a_warning(tmp_path: Path) -> None:
    data = (RECORDS / f"{PY_RECORD}.json").read_bytes()
    root = export(tmp_path, {f"a/{PY_RECORD}.json": data, f"b/{PY_RECORD}.json": data})
    ids, warnings, origins = scan_py(root)
    assert ids == ["CVE-2022-42969"]
    assert warnings == []
    assert origins == [str(root / "a" / f"{PY_RECORD}.json")]


@pytest.mark.parametrize("newer_first", [True, False])
def test_two_different_records_under_one_id_keep_the_newer_and_warn(
    tmp_path: Path, newer_first: bool
) -> None:
    older = raw(PY_RECORD)
    newer = raw(PY_RECORD) | {"modified": "2024-06-01T00:00:00Z", "details": "Disputed."}
    first, second = (newer, older) if newer_first else (older, newer)
    root = export(
        tmp_path,
        {
            f"a/{PY_RECORD}.json": json.dumps(first).encode(),
            f"b/{PY_RECORD}.json": json.dumps(second).encode(),
        },
    )
    kept = root / ("a" if newer_first else "b") / f"{PY_RECORD}.json"
    dropped = root / ("b" if newer_first else "a") / f"{PY_RECORD}.json"
    ids, [warning], origins = scan_py(root)
    assert ids == ["CVE-2022-42969"]
    assert origins == [str(kept)]
    assert warning.rule == RULE_DUPLICATE
    assert (warning.location.file, warning.location.key) == (dropped, PY_RECORD)
    assert warning.message == (
        f"another record {PY_RECORD} with different content is in {kept} (modified "
        "2024-06-01T00:00:00Z); that one is used, this one (modified 2022-11-04T11:00:00Z) is not"
    )
