"""`imagekit update` end to end: uv against the package index, real builds, real verification.

A joblib bump leaves the iris model's outputs alone and is promoted; NumPy 1 -> 2 moves the
nep50 scorer's outputs and is refused, the lock untouched, until --force gives a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from _projects import DATA, EXAMPLE, copy_project, edit_spec
from _verify_helpers import NEP50, remove_tag, verify_containers
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.cli import app
from imagekit.project.lockfile import read_lock

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]
VERSION = "verify-update"
OSV = DATA / "osv" / "records"  # real advisories (see its README)
TAGS = (
    f"iris-classifier:{VERSION}",
    f"iris-classifier:{VERSION}-candidate",
    f"nep50-scorer:{VERSION}",
    f"nep50-scorer:{VERSION}-candidate",
)


@pytest.fixture(autouse=True)
def clean(debian_base: BaseBuildResult, docker_client: docker.DockerClient) -> Iterator[None]:
    yield
    for tag in TAGS:
        remove_tag(docker_client, tag)
    assert verify_containers(docker_client) == []


def versions(lock: Path) -> dict[str, str]:
    return {p.name: str(p.version) for p in read_lock(lock).packages}


def test_a_joblib_bump_is_verified_and_promoted(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, 'version = "1.0.0"', f'version = "{VERSION}"')
    original = (EXAMPLE / "requirements.lock").read_bytes()
    args = ["update", str(project), "--packages", "joblib", "--osv", str(OSV)]
    result = CliRunner().invoke(app, [*args, "--exclude-newer", "2026-01-10T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("promote: requirements.lock\n  joblib 1.5.2 -> 1.5.3\n")
    assert versions(project / "requirements.lock")["joblib"] == "1.5.3"
    assert (EXAMPLE / "requirements.lock").read_bytes() == original
    report = (project / ".imagekit" / "update" / "report.md").read_text()
    assert report.startswith("# imagekit update: promote\n\nVerdict: **promote**.")
    assert "| joblib | 1.5.2 | 1.5.3 | changed |" in report
    assert "--upgrade-package joblib" in report
    assert "## imagekit verify: PASS" in report
    assert "| probabilities.npy | pass | 8x3 | float64 | 0/24 (0.0%) |" in report
    assert "### imagekit diff:" in report
    scan = report.split("## Scan\n\n")[1].split("\n\n")[0].splitlines()
    assert [line.split("`: ")[0] for line in scan] == [
        f"- current `iris-classifier:{VERSION}",
        f"- candidate `iris-classifier:{VERSION}-candidate",
    ]
    assert all(" known vulnerabilities" in line for line in scan), scan


def test_security_only_with_nothing_vulnerable_builds_nothing(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    before = (project / "requirements.lock").read_bytes()
    result = CliRunner().invoke(app, ["update", str(project), "--security-only", "--osv", str(OSV)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "no-change: requirements.lock\n  no known vulnerability in the lock\n"
    )
    assert (project / "requirements.lock").read_bytes() == before
    assert not (project / ".imagekit" / "update" / "candidate").exists()
    report = (project / ".imagekit" / "update" / "report.md").read_text()
    assert report.startswith("# imagekit update: no-change\n\nVerdict: nothing to promote.")


def test_numpy_2_is_refused_then_forced(tmp_path: Path) -> None:
    project = copy_project(NEP50, tmp_path / "nep50")
    edit_spec(project, 'version = "1.0.0"', f'version = "{VERSION}"')
    source = project / "requirements-numpy1.in"
    source.write_text(source.read_text().replace("numpy==1.26.4", "numpy>=1.26,<3"))
    lock = project / "requirements-numpy1.lock"
    before = lock.read_bytes()
    args = [
        "update",
        str(project),
        "--packages",
        "numpy",
        "--exclude-newer",
        "2025-12-01T00:00:00Z",
    ]
    refused = CliRunner().invoke(app, [*args, "--json"])
    assert refused.exit_code == 1, refused.output
    data = json.loads(refused.stdout)
    assert data["verdict"] == "do-not-promote" and data["promoted"] is False
    assert data["changes"] == [
        {"name": "numpy", "old": "1.26.4", "new": "2.3.5", "kind": "changed"}
    ]
    assert data["reasons"][0] == "imagekit verify fails:"
    assert data["reasons"][1].startswith("scores.npy: 4 of 12 elements outside the tolerance")
    assert lock.read_bytes() == before
    markdown = Path(data["report"]).read_text()
    assert "Verdict: **do not promote**." in markdown
    assert "`requirements-numpy1.lock` left untouched" in markdown
    assert "| `[3, 0]` | -0.2497716823993339 | -0.2497735470533371 |" in markdown

    reason = "NEP 50 float32 scores reviewed by the model owner"
    forced = CliRunner().invoke(app, [*args, "--force", reason])
    assert forced.exit_code == 0, forced.output
    assert versions(lock) == {"numpy": "2.3.5"}
    markdown = (project / ".imagekit" / "update" / "report.md").read_text()
    assert f"- forced with --force: {reason}" in markdown
    assert "`requirements-numpy1.lock` replaced by the candidate lock" in markdown


def test_force_needs_a_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["update", str(EXAMPLE), "--force", " "])
    assert result.exit_code == 2
    assert result.stderr == "error: --force needs a reason, recorded in the report\n"
