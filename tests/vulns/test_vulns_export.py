"""Offline OSV exports: a directory of records, osv.dev's all.zip, and hostile archives."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from _vulns_support import MALFORMED, RECORDS, export_copy, pypi

from imagekit.errors import Severity
from imagekit.vulns import SourceKind, VulnError, VulnSourceError, make_source
from imagekit.vulns.export import ExportSource, unsafe_member_name
from imagekit.vulns.online import ApiSource

PILLOW = pypi("Pillow", "9.5.0")
PILLOW_IDS = {"GHSA-8ghj-p4vj-mr35", "PYSEC-2023-227", "PYSEC-2023-175"}


def all_zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_directory_export_finds_the_package_records(tmp_path: Path) -> None:
    result = ExportSource([RECORDS]).fetch([PILLOW])
    assert {r.id for r in result.records} == PILLOW_IDS
    assert result.warnings == ()


def test_directory_is_read_recursively(tmp_path: Path) -> None:
    nested = tmp_path / "export" / "PyPI"
    shutil.copytree(RECORDS, nested)
    result = ExportSource([tmp_path / "export"]).fetch([PILLOW])
    assert {r.id for r in result.records} == PILLOW_IDS


def test_malformed_record_is_skipped_with_a_warning_naming_the_file(tmp_path: Path) -> None:
    export = export_copy(tmp_path, "GHSA-8ghj-p4vj-mr35")
    shutil.copy(MALFORMED / "truncated.GHSA-8ghj-p4vj-mr35.json", export)
    shutil.copy(MALFORMED / "two-keys-in-event.PYSEC-2023-175.json", export)
    result = ExportSource([export]).fetch([PILLOW])
    assert [r.id for r in result.records] == ["GHSA-8ghj-p4vj-mr35"]
    messages = [str(w) for w in result.warnings]
    assert all(w.severity is Severity.WARNING for w in result.warnings)
    assert len(messages) == 2
    assert messages[0].startswith(f"{export}/truncated.GHSA-8ghj-p4vj-mr35.json: not a valid OSV")
    assert "(has fixed, introduced)" in messages[1]


def test_all_zip_is_read_without_extracting(tmp_path: Path) -> None:
    members = {p.name: p.read_bytes() for p in sorted(RECORDS.glob("*.json"))}
    archive = all_zip(tmp_path / "all.zip", members)
    result = ExportSource([archive]).fetch([PILLOW])
    assert {r.id for r in result.records} == PILLOW_IDS
    assert {r.origin for r in result.records} >= {f"{archive}:GHSA-8ghj-p4vj-mr35.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.json", "a path that climbs out of the archive (..)"),
        ("osv/../../evil.json", "a path that climbs out of the archive (..)"),
        ("/etc/evil.json", "an absolute path"),
        ("C:\\evil.json", "an absolute path"),
        ("..\\evil.json", "a path that climbs out of the archive (..)"),
        ("PyPI/GHSA-8ghj-p4vj-mr35.json", None),
    ],
)
def test_unsafe_member_names(name: str, why: str | None) -> None:
    assert unsafe_member_name(name) == why


def test_zip_with_traversal_members_refuses_them(tmp_path: Path) -> None:
    # The hostile members hold a real pillow record: were they read, pillow would match it.
    hostile = (RECORDS / "GHSA-8ghj-p4vj-mr35.json").read_bytes()
    archive = all_zip(
        tmp_path / "work" / "all.zip",
        {
            "PYSEC-2023-175.json": (RECORDS / "PYSEC-2023-175.json").read_bytes(),
            "../evil.json": hostile,
            "/srv/abs.json": hostile,
        },
    )
    result = ExportSource([archive]).fetch([PILLOW])
    assert [r.id for r in result.records] == ["PYSEC-2023-175"]
    assert [str(w) for w in result.warnings] == [
        f"{archive}: ../evil.json: member name is a path that climbs out of the archive (..); "
        "refused, not read [osv-zip-member] (fix: use the all.zip published by osv.dev, or "
        "rebuild the archive with relative names)",
        f"{archive}: /srv/abs.json: member name is an absolute path; refused, not read "
        "[osv-zip-member] (fix: use the all.zip published by osv.dev, or rebuild the archive "
        "with relative names)",
    ]
    assert not (tmp_path / "evil.json").exists()
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["all.zip"]


def test_malformed_member_of_a_zip_is_a_warning(tmp_path: Path) -> None:
    archive = all_zip(
        tmp_path / "all.zip",
        {
            "GHSA-8ghj-p4vj-mr35.json": (
                MALFORMED / "truncated.GHSA-8ghj-p4vj-mr35.json"
            ).read_bytes()
        },
    )
    result = ExportSource([archive]).fetch([PILLOW])
    assert result.records == ()
    assert str(result.warnings[0]).startswith(f"{archive}: GHSA-8ghj-p4vj-mr35.json: not a valid")


def test_single_record_file(tmp_path: Path) -> None:
    result = ExportSource([RECORDS / "PYSEC-2023-175.json"]).fetch([PILLOW])
    assert [r.id for r in result.records] == ["PYSEC-2023-175"]


def test_missing_export_stops_the_scan(tmp_path: Path) -> None:
    with pytest.raises(VulnSourceError, match=r"nope: OSV export not found"):
        ExportSource([tmp_path / "nope"]).fetch([PILLOW])


def test_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(VulnSourceError, match=r"notes.txt: not an OSV export"):
        ExportSource([tmp_path / "notes.txt"]).fetch([PILLOW])


@pytest.mark.parametrize("kind", list(SourceKind))
def test_every_source_kind_can_be_made(kind: SourceKind) -> None:
    source = make_source(kind, paths=[RECORDS], url="http://127.0.0.1:1")
    assert source.kind is kind
    assert isinstance(source, {SourceKind.EXPORT: ExportSource, SourceKind.API: ApiSource}[kind])


def test_export_without_paths() -> None:
    with pytest.raises(VulnError, match=r"needs at least one path \(--osv PATH\)"):
        make_source(SourceKind.EXPORT)
