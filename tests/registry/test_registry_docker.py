"""An image from the Docker daemon, pushed to a real registry and pulled back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from _registry_support import anonymous_registry
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.cli import app

runner = CliRunner()
pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


def test_push_a_daemon_image_and_pull_it_back(
    registry: str,
    docker_client: docker.DockerClient,
    debian_base: BaseBuildResult,
    tmp_path: Path,
) -> None:
    ref = f"{registry}/imagekit-test/debian-base:{debian_base.tag.rpartition(':')[2]}"
    pushed = runner.invoke(app, ["push", debian_base.tag, ref])
    assert pushed.exit_code == 0, pushed.output
    digest = pushed.stdout.strip()
    assert digest.startswith("sha256:")

    pulled = runner.invoke(app, ["pull", ref, "-o", str(tmp_path / "layout")])
    assert pulled.exit_code == 0, pulled.output
    assert pulled.stdout.strip() == digest
    blobs = tmp_path / "layout" / "blobs" / "sha256"
    manifest = json.loads((blobs / digest.removeprefix("sha256:")).read_bytes())
    config_digest = manifest["config"]["digest"]
    config = json.loads((blobs / config_digest.removeprefix("sha256:")).read_bytes())
    image = docker_client.images.get(debian_base.tag)
    # Same file system layers (diff ids), same config, hence the daemon's own image ID.
    assert config["rootfs"]["diff_ids"] == image.attrs["RootFS"]["Layers"]
    assert config_digest == image.id
    assert len(manifest["layers"]) == len(config["rootfs"]["diff_ids"])
