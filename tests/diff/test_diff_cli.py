"""`imagekit diff` in-process: exit 0 for any difference, 2 for input it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from imagekit.cli import app

REPO = Path(__file__).resolve().parents[2]
OLD = str(REPO / "examples" / "iris" / "requirements.lock")
NEW = str(REPO / "tests" / "data" / "diff" / "requirements.iris-numpy-2.4.lock")
OVERRIDE = str(REPO / "tests" / "data" / "diff" / "override.risk.toml")

runner = CliRunner()


def test_markdown_for_a_pull_request() -> None:
    result = runner.invoke(app, ["diff", OLD, NEW, "--markdown"])
    assert result.exit_code == 0, result.output
    assert "**1 numeric-risk**, 0 behaviour, 0 benign" in result.stdout
    assert "| python | numpy | upgraded | 2.3.5 | 2.4.1 | array kernels" in result.stdout


def test_json() -> None:
    result = runner.invoke(app, ["diff", OLD, NEW, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"] == {"numeric-risk": 1, "behaviour": 0, "benign": 0}
    assert data["changes"][0]["rule"] == "numpy"


def test_text_by_default() -> None:
    result = runner.invoke(app, ["diff", OLD, NEW])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[-1] == f"{OLD} -> {NEW}: 1 numeric-risk, 0 behaviour, 0 benign"
    )


def test_a_risk_override_reclasses() -> None:
    result = runner.invoke(app, ["diff", OLD, NEW, "--json", "--risk", OVERRIDE])
    assert result.exit_code == 0, result.output
    change = json.loads(result.stdout)["changes"][0]
    assert (change["class"], change["reason"]) == (
        "benign",
        "re-evaluated nightly by the platform's reference run",
    )


def test_no_changes_is_exit_0() -> None:
    result = runner.invoke(app, ["diff", OLD, OLD])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{OLD} -> {OLD}: no changes\n"


def test_unreadable_input_is_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "requirements.lock"
    result = runner.invoke(app, ["diff", OLD, str(missing)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: file not found (correct the path)\n"


def test_a_malformed_risk_file_is_exit_2() -> None:
    bad = str(REPO / "tests" / "data" / "diff" / "unknown-class.risk.toml")
    result = runner.invoke(app, ["diff", OLD, NEW, "--risk", bad])
    assert result.exit_code == 2
    assert "packages[0].class: unknown class 'scary'" in result.stderr


def test_json_and_markdown_together_is_a_usage_error() -> None:
    result = runner.invoke(app, ["diff", OLD, NEW, "--json", "--markdown"])
    assert result.exit_code == 2
    assert result.stderr == "error: choose one of --json and --markdown\n"
