"""`imagekit scan` of the real example image, built on the Docker daemon.

CI starts the daemon (.ci/dockerd-start.sh); the build fetches the example's wheels (network).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from _projects import EXAMPLE, copy_project
from _vulns_support import RECORDS
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.cli import app
from imagekit.inventory.debversion import compare_debian_versions

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]
TAG = "scan-test/iris:1"
runner = CliRunner()


@pytest.fixture(scope="module")
def image(
    debian_base: BaseBuildResult,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BuildOutcome]:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("scan") / "iris")
    lines: list[str] = []
    yield build_project(project, progress=lines.append, tag=TAG)
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(TAG, noprune=False)


def test_scan_of_the_example_image(image: BuildOutcome, tmp_path: Path) -> None:
    out = tmp_path / "iris.vulns.cdx.json"
    result = runner.invoke(
        app, ["scan", TAG, "--osv", str(RECORDS), "--json", "--sbom-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["target"] == TAG
    # The image's own packages were read: the example's pins, and Debian 12's openssl.
    sbom = json.loads(out.read_text())
    purls = {c.get("purl", "") for c in sbom["components"]}
    for pin in ("numpy@2.3.5", "scikit-learn@1.7.2", "joblib@1.5.2"):
        assert f"pkg:pypi/{pin}" in purls
    libssl = next(c for c in sbom["components"] if c["name"] == "libssl3")
    # These pins are newer than every fixture's fix; whether DSA-5532-1 applies depends only on
    # the openssl the base image was built with, so the expectation is computed, not assumed.
    vulnerable = compare_debian_versions(libssl["version"], "3.0.11-1~deb12u2") < 0
    found = {(f["package"]["name"], f["id"]) for f in report["findings"]}
    assert (("openssl", "CVE-2023-5363") in found) is vulnerable
    assert not {name for name, _ in found} & {"numpy", "scikit-learn", "joblib"}
    refs = {c["bom-ref"] for c in sbom["components"]}
    assert all(a["ref"] in refs for v in sbom["vulnerabilities"] for a in v["affects"])
    failing = runner.invoke(app, ["scan", TAG, "--osv", str(RECORDS), "--fail-on", "low"])
    assert failing.exit_code == (1 if report["findings"] else 0), failing.output
