"""`imagekit build --compression zstd`: where it goes and where it is refused, in one line."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
from _projects import EXAMPLE, copy_project
from typer.testing import CliRunner

from imagekit.build.oci.targets import check_loadable, daemon_version
from imagekit.cli import app
from imagekit.image.errors import OciError
from imagekit.image.model import Compression


@pytest.mark.parametrize("version", ["23.0.0", "27.3.1", "28.0.0-rc.1"])
def test_a_docker_engine_of_23_or_later_loads_zstd(version: str) -> None:
    check_loadable(Compression.ZSTD, version)


def test_docker_20_10_cannot_load_zstd() -> None:
    # Debian bookworm's docker.io package reports its version so.
    with pytest.raises(
        OciError,
        match=r"^--compression zstd --load: the Docker daemon is 20\.10\.24\+dfsg1, which cannot "
        r"load zstd layers \(Docker Engine 23\.0 and later can\); use the default gzip",
    ):
        check_loadable(Compression.ZSTD, "20.10.24+dfsg1")
    check_loadable(Compression.GZIP, "20.10.24+dfsg1")


def test_zstd_needs_the_oci_backend(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    result = CliRunner().invoke(
        app, ["build", str(project), "--backend", "dockerfile", "--compression", "zstd"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().endswith(
        "--compression zstd needs --backend docker or oci; dockerfile writes gzip layers"
    )
    assert not (project / ".imagekit").exists()


@pytest.mark.docker
def test_loading_zstd_into_an_old_daemon_is_refused_before_the_build(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    version = daemon_version(docker_client)
    if not version.startswith(("1", "20.")):
        pytest.skip(f"the daemon here is Docker Engine {version}, which loads zstd layers")
    project = copy_project(EXAMPLE, tmp_path / "iris")
    result = CliRunner().invoke(
        app, ["build", str(project), "--backend", "oci", "--load", "--compression", "zstd"]
    )
    assert result.exit_code != 0
    assert f"the Docker daemon is {version}, which cannot load zstd layers" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # the stage line + one
    assert "Traceback" not in result.output
