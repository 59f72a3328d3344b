"""Vulnerabilities introduced and fixed between two lockfiles, from the real OSV fixtures."""

from __future__ import annotations

import datetime
from pathlib import Path

from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.diff import diff, to_markdown

OSV = Path(__file__).resolve().parents[1] / "data" / "osv" / "records"
TODAY = datetime.date(2025, 12, 1)


def _lock(folder: Path, name: str, *pins: str) -> Path:
    path = folder / f"requirements.{name}.lock"
    path.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
    return path


def test_an_upgrade_fixes_and_a_downgrade_introduces(tmp_path: Path) -> None:
    old = _lock(tmp_path, "old", "joblib==1.1.0", "numpy==1.24.4")
    new = _lock(tmp_path, "new", "joblib==1.5.2", "numpy==1.19.0")
    result = diff(str(old), str(new), osv=[OSV], today=TODAY)
    vulns = [
        (c.kind.value, c.name, c.old, c.new, c.risk.value, c.detail)
        for c in result.changes
        if c.subject.value == "vulnerability"
    ]
    assert vulns == [
        (
            "introduced",
            "numpy",
            None,
            "1.19.0",
            "behaviour",
            "CVE-2021-41495, unknown, fixed in 1.19.1",
        ),
        ("fixed", "joblib", "1.1.0", None, "benign", "CVE-2022-21797, unknown, fixed in 1.2.0"),
    ]
    assert (
        "| vulnerability | numpy | introduced (CVE-2021-41495, unknown, fixed in 1.19.1) |  | 1.19.0 |"
        in to_markdown(result)
    )


def test_without_osv_data_vulnerabilities_are_left_out(tmp_path: Path) -> None:
    old = _lock(tmp_path, "old", "joblib==1.1.0")
    new = _lock(tmp_path, "new", "joblib==1.5.2")
    assert [c.subject.value for c in diff(str(old), str(new)).changes] == ["python"]


def test_the_cli_takes_osv_exports(tmp_path: Path) -> None:
    old = _lock(tmp_path, "old", "joblib==1.1.0")
    new = _lock(tmp_path, "new", "joblib==1.5.2")
    result = CliRunner().invoke(app, ["diff", str(old), str(new), "--osv", str(OSV), "--json"])
    assert result.exit_code == 0, result.output
    assert '"change": "fixed"' in result.stdout
