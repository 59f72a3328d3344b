"""`imagekit compat` on real images in a real Docker daemon, read by the real Inventory reader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docker
import pytest
from _gpu_support import GPU_DATA
from _projects import EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult, build_base
from imagekit.cli import app
from imagekit.gpu import Verdict, compat_of_inventory, knowledge_base, load_fleet
from imagekit.inventory import read_inventory
from imagekit.plan.catalog import Catalog

runner = CliRunner()
FLEET = GPU_DATA / "fleet.toml"


@pytest.mark.docker
def test_the_debian_base_runs_anywhere(debian_base: BaseBuildResult) -> None:
    inventory = read_inventory(debian_base.tag)
    report = compat_of_inventory(inventory, load_fleet(FLEET, knowledge_base()))
    assert report.summary.cuda is None
    assert {v.verdict for v in report.pools} == {Verdict.RUNS}
    result = runner.invoke(app, ["compat", debian_base.tag, "--fleet", str(FLEET), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"] == (
        "no CUDA in the image: runs anywhere, no driver needed"
    )


@pytest.mark.docker
@pytest.mark.network
@pytest.mark.slow
def test_the_cuda_base_needs_cuda_12_4(
    docker_client: docker.DockerClient, debian_base: BaseBuildResult
) -> None:
    """The catalog's CUDA 12.4 base (NVIDIA's wheels from PyPI): its own files say CUDA 12.4."""
    base = build_base(
        Catalog.load().get("debian-bookworm-py311-cuda12.4"), docker_client, log=print
    )
    report = compat_of_inventory(read_inventory(base.tag), load_fleet(FLEET, knowledge_base()))
    s = report.summary
    assert (str(s.cuda), str(s.min_driver), str(s.minor_compat_driver)) == (
        "12.4",
        "550.54.14",
        "525.60.13",
    )
    verdicts = {v.pool.name: v.verdict for v in report.pools}
    assert verdicts["h100-550"] is Verdict.RUNS
    assert verdicts["a100-535"] is Verdict.MINOR_COMPAT
    assert verdicts["t4-470"] is Verdict.REFUSED
    assert verdicts["b200-570"] is Verdict.RUNS  # no framework: no kernel list to refuse it by


@pytest.mark.docker
@pytest.mark.network
@pytest.mark.slow
def test_build_judges_the_fleet_and_records_it(
    tmp_path: Path, debian_base: BaseBuildResult
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    shutil.copyfile(FLEET, project / "fleet.toml")
    edit_spec(
        project,
        'lockfile = "requirements.lock"',
        'lockfile = "requirements.lock"\nfleet = "fleet.toml"',
    )
    result = runner.invoke(
        app, ["build", str(project), "--backend", "docker", "--tag", "iris-fleet:test"]
    )
    assert result.exit_code == 0, result.output
    assert "fleet: no CUDA in the image: runs anywhere, no driver needed" in result.stdout
    record = json.loads((project / ".imagekit" / "build.json").read_text(encoding="utf-8"))
    assert {p["verdict"] for p in record["compat"]["pools"]} == {"runs"}
    assert record["compat"]["allow_incompatible"] is None
    judged = runner.invoke(app, ["compat", "iris-fleet:test", "--fleet", str(FLEET)])
    assert judged.exit_code == 0, judged.output
