"""`imagekit build --all DIR`: every model folder attempted, a summary table, exit 1 on a
failure. The oci backend needs no daemon; the real build fetches wheels (cached)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.build.backends import BackendKind, ImageHome
from imagekit.build.many import ModelBuild, build_all, effective_jobs
from imagekit.cli import app
from imagekit.cli.build import summary_table
from imagekit.errors import InputError

ARTIFACT_SHA = "2bc8aa3e027bcbcf014ac20f0f3b23556979458677ac80a18dfd8e0554897ee9"


def broken_copy(dest: Path) -> Path:
    """The example with its artifact's sha256 edited: its checks fail before any build."""
    project = copy_project(EXAMPLE, dest)
    edit_spec(project, ARTIFACT_SHA, "0" * 64)
    return project


@pytest.mark.parametrize("kind", list(BackendKind))
def test_every_backend_has_a_job_count(kind: BackendKind) -> None:
    assert effective_jobs(kind, None) >= 1
    assert effective_jobs(kind, 3) in {1, 3}


def test_the_backends_that_assemble_layers_build_in_parallel() -> None:
    assert effective_jobs(BackendKind.OCI, None) == 2
    assert effective_jobs(BackendKind.OCI, 4) == 4
    assert effective_jobs(BackendKind.DOCKER, 4) == 4
    assert effective_jobs(BackendKind.DOCKERFILE, 4) == 1


def test_a_folder_without_models_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no model folders found"):
        build_all(tmp_path, backend=BackendKind.OCI, progress=print)


def test_every_failed_model_is_attempted_and_reported(tmp_path: Path) -> None:
    broken_copy(tmp_path / "a")
    broken_copy(tmp_path / "b")
    lines: list[str] = []
    builds = build_all(tmp_path, backend=BackendKind.OCI, progress=lines.append)
    assert [(b.name, b.ok) for b in builds] == [("a", False), ("b", False)]
    assert all("sha256" in b.error and "\n" not in b.error for b in builds)
    assert any(line.startswith("a: FAILED: ") for line in lines)
    assert any(line.startswith("b: FAILED: ") for line in lines)


def test_the_summary_table_aligns_its_columns() -> None:
    builds = (
        ModelBuild(
            name="iris",
            folder=Path("iris"),
            seconds=12.34,
            image="iris-classifier:1.0.0",
            image_id="sha256:" + "ab" * 32,
            size=123_456_789,
        ),
        ModelBuild(name="broken", folder=Path("broken"), seconds=0.2, error="bad sha256"),
    )
    assert summary_table(builds, ImageHome.LAYOUT) == [
        "MODEL   IMAGE                  ID            SIZE (COMPRESSED)  TIME   STATUS",
        "iris    iris-classifier:1.0.0  abababababab  123.5 MB           12.3s  ok",
        "broken  -                      -             -                  0.2s   FAILED: bad sha256",
    ]


def test_the_cli_refuses_a_tag_with_all(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--all", "--tag", "x:1", str(tmp_path)])
    assert result.exit_code == 2
    assert "--tag cannot be used with --all" in result.output


@pytest.mark.network
@pytest.mark.slow
def test_one_model_builds_and_the_broken_one_fails(tmp_path: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    copy_project(EXAMPLE, tmp_path / "models" / "iris")
    broken_copy(tmp_path / "models" / "iris-broken")
    result = CliRunner().invoke(
        app, ["build", "--all", "--backend", "oci", str(tmp_path / "models")]
    )
    assert result.exit_code == 1, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert rows["MODEL"].split() == [
        "MODEL",
        "IMAGE",
        "ID",
        "SIZE",
        "(COMPRESSED)",
        "TIME",
        "STATUS",
    ]
    assert rows["iris"].endswith("  ok")
    assert "iris-classifier:1.0.0" in rows["iris"]
    assert "FAILED: " in rows["iris-broken"] and "sha256" in rows["iris-broken"]
    assert (tmp_path / "models" / "iris" / ".imagekit" / "oci" / "index.json").is_file()
    assert any(line.startswith("iris: ") for line in result.output.splitlines())
