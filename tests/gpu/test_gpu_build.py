"""`imagekit build` judges the project's fleet before any engine runs: an image no pool can run
is refused unless --allow-incompatible gives the reason, which the build record keeps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _gpu_support import GPU_DATA, TORCH
from typer.testing import CliRunner

from imagekit.build.backends import BuildResult, ImageHome
from imagekit.build.pipeline import build_project, compat_record, write_record
from imagekit.cli import app
from imagekit.errors import InputError
from imagekit.gpu import IncompatibleError, Verdict
from imagekit.plan.prepare import prepare
from imagekit.project.spec import load_spec

OLD_FLEET = '[[pools]]\nname = "t4-470"\ndriver = "470.82.01"\ngpu = "T4"\n'
runner = CliRunner()


def project_with_fleet(tmp_path: Path, fleet: str, key: str = 'fleet = "fleet.toml"') -> Path:
    project = tmp_path / "torch"
    shutil.copytree(TORCH, project, ignore=shutil.ignore_patterns(".imagekit"))
    (project / "fleet.toml").write_text(fleet, encoding="utf-8")
    spec = project / "imagekit.toml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace(
            'lockfile = "requirements.lock"\n', f'lockfile = "requirements.lock"\n{key}\n'
        ),
        encoding="utf-8",
    )
    return project


def test_spec_names_a_fleet_inside_the_model_folder(tmp_path: Path) -> None:
    project = project_with_fleet(tmp_path, OLD_FLEET)
    assert load_spec(project).fleet == project.resolve() / "fleet.toml"
    outside = project_with_fleet(tmp_path / "2", OLD_FLEET, 'fleet = "../fleet.toml"')
    with pytest.raises(
        InputError,
        match=r"imagekit\.toml: fleet: '\.\./fleet\.toml' must be a path inside the model folder",
    ):
        load_spec(outside)


def never(*args: object, **kwargs: object) -> None:
    raise AssertionError("no engine may run for an image no pool can run")


def test_build_refuses_an_image_no_pool_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("imagekit.build.pipeline.get_backend", never)
    project = project_with_fleet(tmp_path, OLD_FLEET)
    with pytest.raises(IncompatibleError) as e:
        build_project(project, progress=lambda _: None)
    assert str(e.value) == (
        f"{project.resolve() / 'fleet.toml'}: no pool can run torch-classifier:0.3.0: pool t4-470: "
        "driver 470.82.01 is older than 550.54.14 that CUDA 12.4 needs (525.60.13 with minor "
        "version compatibility) (fix: meet one pool's needs, or build anyway with "
        '--allow-incompatible "REASON")'
    )
    assert e.value.exit_code == 1
    result = runner.invoke(app, ["build", str(project)])
    assert result.exit_code == 1
    assert "error: " in result.stderr and "no pool can run torch-classifier:0.3.0" in result.stderr


def test_a_bad_fleet_file_stops_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("imagekit.build.pipeline.get_backend", never)
    project = project_with_fleet(tmp_path, (GPU_DATA / "bad-driver.fleet.toml").read_text())
    result = runner.invoke(app, ["build", str(project)])
    assert result.exit_code == 2
    assert "fleet.toml: pools[0].driver: 'r535' is not a driver version" in result.stderr


def test_allow_incompatible_needs_a_reason(tmp_path: Path) -> None:
    project = project_with_fleet(tmp_path, OLD_FLEET)
    result = runner.invoke(app, ["build", str(project), "--allow-incompatible", " "])
    assert result.exit_code == 2
    assert "give the reason to build anyway" in result.output


def test_the_reason_goes_into_the_build_record(tmp_path: Path) -> None:
    project = project_with_fleet(tmp_path, OLD_FLEET)
    # Without the reason, `check` refuses the project as `build` does; with it, a warning.
    checked = prepare(
        project, allow_incompatible="T4 pool gets its 550 driver next week (OPS-1234)"
    )
    plan, report = checked.plan, checked.compat
    assert report is not None and not report.runnable
    image_id = "sha256:" + "0" * 64
    result = BuildResult(
        image_id=image_id,
        tag=plan.image_ref,
        size=1,
        layers=(),
        home=ImageHome.DAEMON,
        location=image_id,
    )
    record = write_record(
        plan,
        result,
        tmp_path,
        compat=compat_record(report, "T4 pool gets its 550 driver next week (OPS-1234)"),
    )
    kept = json.loads(record.read_text(encoding="utf-8"))["compat"]
    assert kept["allow_incompatible"] == "T4 pool gets its 550 driver next week (OPS-1234)"
    assert kept["runnable"] is False
    assert [p["verdict"] for p in kept["pools"]] == [Verdict.REFUSED.value]
    assert kept["cuda"]["min_driver"] == "550.54.14"


def test_a_fleet_that_runs_it_passes(tmp_path: Path) -> None:
    project = project_with_fleet(tmp_path, (GPU_DATA / "fleet.toml").read_text())
    report = prepare(project).compat
    assert report is not None and report.runnable
    assert compat_record(None, None) is None
