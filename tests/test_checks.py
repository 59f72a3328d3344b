"""Every bad input of a model folder, through `imagekit check`: one line each, naming the file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from _projects import DATA, EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.checks.run import run_checks
from imagekit.cli import app
from imagekit.conflicts.index import MetadataSource

LOCKS = DATA / "locks"
runner = CliRunner()


def with_lock(tmp_path: Path, fixture: str, name: str = "requirements.lock") -> Path:
    """The example with its lock replaced by a fixture, and no declared critical packages."""
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "requirements.lock").unlink()
    shutil.copyfile(LOCKS / fixture, project / name)
    edit_spec(project, 'lockfile = "requirements.lock"', f'lockfile = "{name}"')
    edit_spec(project, 'critical = ["numpy", "scipy", "scikit-learn"]', "critical = []")
    return project


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "unpinned.requirements.txt",
            r"requirements\.lock:5: error: numpy is not pinned to one exact version: no version \[unpinned\]",
        ),
        (
            "range.requirements.txt",
            r"requirements\.lock:5: error: numpy is not pinned to one exact version: a version range \(>=1\.26\) \[unpinned\]",
        ),
        (
            "missing-hash.requirements.txt",
            r"requirements\.lock:5: error: threadpoolctl==3\.8\.0 has no sha256 hash \[unhashed\]",
        ),
        (
            "duplicate.requirements.txt",
            r"requirements\.lock:8: error: threadpoolctl is listed twice \(also at .*requirements\.lock:2\) \[duplicate\]",
        ),
        (
            "editable.requirements.txt",
            r"requirements\.lock:5: error: \S+ is an editable install \[editable\]",
        ),
        (
            "vcs-no-hash.requirements.txt",
            r"requirements\.lock:5: error: threadpoolctl comes from git\+https://github\.com/joblib/threadpoolctl@3\.8\.0 without a hash \[direct-unhashed\]",
        ),
        (
            "url-no-hash.requirements.txt",
            r"requirements\.lock:5: error: numpy comes from https://\S+ without a hash \[direct-unhashed\]",
        ),
    ],
)
def test_lock_findings(tmp_path: Path, fixture: str, expected: str) -> None:
    result = runner.invoke(app, ["check", str(with_lock(tmp_path, fixture))])
    assert result.exit_code == 1, result.output
    assert any(re.search(expected, line) for line in result.stderr.splitlines()), result.stderr


def test_all_findings_in_one_run(tmp_path: Path) -> None:
    project = with_lock(tmp_path, "missing-hash.requirements.txt")
    result = run_checks(project)
    rules = sorted(f.rule for f in result.findings)
    assert rules == ["unhashed", "unhashed"]  # threadpoolctl (none) and cloudpickle (md5 only)


@pytest.mark.parametrize(
    ("fixture", "name", "expected"),
    [
        ("bad-line.requirements.txt", "requirements.lock", r"requirements\.lock:5: error: "),
        ("malformed.pylock.toml", "pylock.toml", r"pylock\.toml:\d+: error: .*malformed TOML"),
        (
            "lock-version-2.pylock.toml",
            "pylock.toml",
            r"pylock\.toml(:\d+)?: lock-version: error: .*2\.0",
        ),
        ("uv.requirements.txt", "deps.cfg", r"deps\.cfg: error: unknown lockfile format"),
    ],
)
def test_unreadable_lock_exits_2(tmp_path: Path, fixture: str, name: str, expected: str) -> None:
    result = runner.invoke(app, ["check", str(with_lock(tmp_path, fixture, name))])
    assert result.exit_code == 2, result.output
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.output


def test_lock_needs_a_newer_python(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["check", str(with_lock(tmp_path, "needs-py312.pylock.toml", "pylock.toml"))]
    )
    assert result.exit_code == 1
    assert (
        "pylock.toml: requires-python: error: the lock requires Python >=3.12, the base has 3.11.2"
        in result.stderr
    )


def test_markers_exclude_without_error(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    lock = project / "requirements.lock"
    lock.write_text(lock.read_text() + 'pywin32==306 ; sys_platform == "win32"\n')
    result = run_checks(project)
    assert result.ok, result.findings
    assert "pywin32" not in {p.name for p in result.packages}


def test_base_carried_package_conflict(tmp_path: Path) -> None:
    project = copy_project(DATA / "projects" / "torch-cu124", tmp_path / "torch")
    lock = project / "requirements.lock"
    lock.write_text(
        lock.read_text().replace("nvidia-cudnn-cu12==9.1.0.70", "nvidia-cudnn-cu12==9.1.1.17")
    )
    result = run_checks(project)
    messages = [f.message for f in result.findings if f.rule == "base-conflict"]
    assert messages == [
        "nvidia-cudnn-cu12 9.1.1.17 conflicts with 9.1.0.70 carried by base debian-bookworm-py311-cuda12.4"
    ]


def test_a_thousand_package_lock_checks_whole(tmp_path: Path) -> None:
    # Speed is measured side by side in benchmarks/check_speed.py, not timed here.
    project = copy_project(EXAMPLE, tmp_path / "iris")
    lines = [f"package-{i:04d}==1.{i}.0 --hash=sha256:{i:064x}" for i in range(1000)]
    (project / "requirements.lock").write_text("\n".join(lines) + "\n")
    edit_spec(project, 'critical = ["numpy", "scipy", "scikit-learn"]', "critical = []")
    # The lock's own checks: made-up packages have no metadata to look up on an index.
    result = run_checks(project, metadata=MetadataSource(offline=True))
    assert result.ok and len(result.packages) == 1000
