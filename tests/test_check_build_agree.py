"""`imagekit check` and `imagekit build` reach one verdict before any engine runs: for every
project in tests/data and examples/, and for a deployment registry, a fleet and a licence policy
that refuse one (which `check` used to pass and only `build`, or the built image, refused)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from _projects import DATA, EXAMPLE, REPO, TORCH, copy_project
from typer.testing import CliRunner

from imagekit.checks.fleet import FLEET_RULE
from imagekit.cli import app
from imagekit.errors import FindingsError, Severity
from imagekit.gpu import IncompatibleError
from imagekit.plan.prepare import check_project, prepare

runner = CliRunner()
PROJECTS = sorted(
    p.parent
    for root in (DATA / "projects", REPO / "examples")
    for p in root.glob("*/imagekit.toml")
)


def check_verdict(project: Path) -> list[str]:
    """The rules of the errors `imagekit check` reports ([] when it passes)."""
    return sorted(f.rule for f in check_project(project).errors)


def build_verdict(project: Path) -> list[str]:
    """The rules of the errors build's step before the engine raises ([] when it goes on)."""
    try:
        prepare(project)
    except IncompatibleError:
        return [FLEET_RULE]
    except FindingsError as e:
        return sorted(f.rule for f in e.findings if f.severity is Severity.ERROR)
    return []


def agree(project: Path) -> list[str]:
    verdict = check_verdict(project)
    assert build_verdict(project) == verdict
    cli = runner.invoke(app, ["check", str(project)])
    assert cli.exit_code == (1 if verdict else 0), cli.output
    return verdict


@pytest.mark.network  # the locked wheels' metadata comes from the index on a cold cache
@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_check_and_build_agree_on_every_project(project: Path) -> None:
    assert agree(project) == []


def refusing_registry(tmp_path: Path) -> Path:
    project = copy_project(EXAMPLE, tmp_path / "models" / "iris")
    spec = project / "imagekit.toml"
    spec.write_text('deployment = "../../deploy.toml"\n' + spec.read_text(), encoding="utf-8")
    (tmp_path / "deploy.toml").write_text(
        '[[groups]]\nname = "cpu-pool"\nshares = "host"\n\n'
        '[[models]]\nname = "iris"\nproject = "models/iris"\ngroup = "cpu-pool"\n\n'
        '[[models]]\nname = "iris-canary"\nproject = "models/iris"\ngroup = "cpu-pool"\n\n'
        '[[incompatible]]\na = "iris-canary"\nb = "iris"\nreason = "both bind port 8080"\n',
        encoding="utf-8",
    )
    return project


def fleet_no_pool_runs(tmp_path: Path) -> Path:
    project = copy_project(TORCH, tmp_path / "torch")
    (project / "fleet.toml").write_text(
        '[[pools]]\nname = "t4-470"\ndriver = "470.82.01"\ngpu = "T4"\n', encoding="utf-8"
    )
    spec = project / "imagekit.toml"
    spec.write_text('fleet = "fleet.toml"\n' + spec.read_text(), encoding="utf-8")
    return project


def policy_denying_scikit_learn(tmp_path: Path) -> Path:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "policy.toml").write_text('deny = ["BSD-3-Clause"]\n', encoding="utf-8")
    spec = project / "imagekit.toml"
    spec.write_text('license_policy = "policy.toml"\n' + spec.read_text(), encoding="utf-8")
    return project


@pytest.mark.network
@pytest.mark.parametrize(
    ("make", "rules"),
    [
        (refusing_registry, ["incompatible"]),
        (fleet_no_pool_runs, [FLEET_RULE]),
        (policy_denying_scikit_learn, ["license-denied"] * 2),
    ],
    ids=["deployment", "fleet", "licence"],
)
def test_check_refuses_what_build_refuses(
    tmp_path: Path, make: Callable[[Path], Path], rules: list[str]
) -> None:
    project = make(tmp_path)
    assert agree(project) == rules
    assert not (project / ".imagekit").exists()  # nothing was built
    shutil.rmtree(project)
