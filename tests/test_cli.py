from __future__ import annotations

import json
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.cli import app

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(EXAMPLE, tmp_path / "iris")


def test_check_clean_example() -> None:
    result = runner.invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "ok (5 packages from requirements.lock, base debian-bookworm-py311)" in result.stdout


def test_check_json(project: Path) -> None:
    edit_spec(project, 'sha256 = "2bc8', 'sha256 = "3bc8')
    result = runner.invoke(app, ["check", str(project), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [f["rule"] for f in data["findings"]] == ["artifact-hash"]
    assert data["findings"][0]["location"]["key"] == "artifacts[0]"


def test_check_reports_every_finding_once(project: Path) -> None:
    edit_spec(project, 'sha256 = "2bc8', 'sha256 = "3bc8')
    edit_spec(project, 'critical = ["numpy"', 'critical = ["pandas", "numpy"')
    (project / "model" / "iris.joblib").unlink()
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "2 error(s)"
    assert any(
        "imagekit.toml: dependencies.critical: error: pandas is marked critical" in x for x in lines
    )
    assert any("model artifact model/iris.joblib not found [artifact-missing]" in x for x in lines)


def test_check_unreadable_input_exits_2(project: Path) -> None:
    (project / "imagekit.toml").write_text("name = [\n")
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "imagekit.toml:1: malformed TOML" in result.stderr
    assert "Traceback" not in result.output


def test_missing_lockfile_is_unreadable_input(project: Path) -> None:
    (project / "requirements.lock").unlink()
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2
    assert "requirements.lock: error: lockfile not found [input]" in result.stderr


def test_base_not_in_catalog(project: Path) -> None:
    edit_spec(project, 'base = "debian-bookworm-py311"', 'base = "alpine"')
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 1
    assert "imagekit.toml: base: error: base image 'alpine' is not in the catalog" in result.stderr


def test_plan_json_and_render(project: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(project), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "iris-classifier"
    out = tmp_path / "rendered"
    result = runner.invoke(app, ["render", str(project), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "Dockerfile").is_file()


def test_render_refuses_a_failing_project(project: Path, tmp_path: Path) -> None:
    edit_spec(project, 'sha256 = "2bc8', 'sha256 = "3bc8')
    out = tmp_path / "rendered"
    result = runner.invoke(app, ["render", str(project), "-o", str(out)])
    assert result.exit_code == 1
    assert not out.exists()


def test_base_list() -> None:
    result = runner.invoke(app, ["base", "list"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == [
        "NAME",
        "OS",
        "PYTHON",
        "CUDA",
        "MIN",
        "DRIVER",
        "FROM",
    ]
    assert "debian-bookworm-py311-cuda12.4" in result.stdout
    rows = json.loads(runner.invoke(app, ["base", "list", "--json"]).stdout)
    assert {r["name"] for r in rows} >= {"debian-bookworm-py311", "debian-bookworm-py311-cuda12.4"}


def test_init_scaffolds_a_spec_that_checks(project: Path) -> None:
    (project / "imagekit.toml").unlink()
    result = runner.invoke(app, ["init", str(project)])
    assert result.exit_code == 0, result.output
    text = (project / "imagekit.toml").read_text()
    assert 'lockfile = "requirements.lock"' in text
    assert 'path = "model/iris.joblib"' in text
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["init", str(project)])
    assert again.exit_code == 2
    assert "imagekit.toml: already exists" in again.stderr


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("imagekit ")
