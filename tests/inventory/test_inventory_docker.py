"""The inventory of the real example image, read three ways (daemon, docker-archive, OCI layout)
and checked against what dpkg and importlib.metadata say inside a container of it."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from _projects import EXAMPLE, copy_project
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.build.pipeline import build_project
from imagekit.cli import app
from imagekit.inventory import Inventory, read_inventory

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]
TAG = "inventory-test/iris:1"
TAMPERED = "inventory-test/iris-tampered:1"
MODEL = "/opt/model/iris.joblib"
LIST_DISTS = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted([d.metadata['Name'], d.version] for d in m.distributions())))"
)


def run(client: docker.DockerClient, image: str, entrypoint: str, *args: str) -> str:
    output = client.containers.run(
        image, list(args), entrypoint=entrypoint, remove=True, network_mode="none"
    )
    return bytes(output).decode()


def remove(client: docker.DockerClient, tag: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def iris(
    debian_base: BaseBuildResult,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("inventory") / "iris")
    lines: list[str] = []
    try:  # removed even if the build fails after tagging
        build_project(project, progress=lines.append, tag=TAG)
        yield TAG
    finally:
        remove(docker_client, TAG)


@pytest.fixture(scope="module")
def iris_archive(
    iris: str, docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("archive") / "iris.tar"
    with path.open("wb") as f:
        for chunk in docker_client.images.get(iris).save():
            f.write(chunk)
    return path


@pytest.fixture(scope="module")
def iris_oci(iris_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed (apt-get install skopeo): no OCI layout to read")
    path = tmp_path_factory.mktemp("oci") / "iris"
    subprocess.run(
        ["skopeo", "copy", "--quiet", f"docker-archive:{iris_archive}", f"oci:{path}"],
        check=True,
        timeout=300,
    )
    return path


@pytest.fixture(scope="module")
def truth(
    iris: str, docker_client: docker.DockerClient
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(deb name, version) and (canonical dist name, version) as the running image reports them."""
    listed = run(
        docker_client,
        iris,
        "dpkg-query",
        "-W",
        "-f",
        "${db:Status-Abbrev}\t${Package}\t${Version}\n",
    )
    debs = {
        (name, version)
        for status, name, version in (line.split("\t") for line in listed.splitlines())
        if status.strip() in ("ii", "hi")
    }
    dists = {
        (str(canonicalize_name(n)), v)
        for n, v in json.loads(run(docker_client, iris, "python", "-c", LIST_DISTS))
    }
    return debs, dists


@pytest.fixture(scope="module")
def from_daemon(iris: str) -> Inventory:
    return read_inventory(iris)


@pytest.fixture(scope="module")
def from_archive(iris_archive: Path) -> Inventory:
    return read_inventory(str(iris_archive))


@pytest.fixture(scope="module")
def from_oci(iris_oci: Path) -> Inventory:
    return read_inventory(str(iris_oci))


def check_against_truth(
    inventory: Inventory, truth: tuple[set[tuple[str, str]], set[tuple[str, str]]]
) -> None:
    debs, dists = truth
    assert debs, "dpkg-query listed nothing"
    assert {(d.name, d.version) for d in inventory.debs} >= debs
    assert {(d.name, d.version) for d in inventory.python} >= dists
    [artifact] = inventory.artifacts
    assert artifact.path == MODEL and artifact.verified, artifact
    assert inventory.os_release is not None and inventory.os_release.codename == "bookworm"
    assert inventory.plan is not None and inventory.plan.document["name"] == "iris-classifier"
    assert [(d.kind, d.name) for d in inventory.data] == [
        ("dataset", "iris"),
        ("source", "scikit-learn"),
    ]


def test_from_the_daemon(
    from_daemon: Inventory, truth: tuple[set[tuple[str, str]], set[tuple[str, str]]]
) -> None:
    check_against_truth(from_daemon, truth)
    assert from_daemon.image.source_kind == "daemon"
    assert from_daemon.image.base_name is not None
    assert from_daemon.image.labels["org.opencontainers.image.title"] == "iris-classifier"


def test_from_a_docker_archive(
    from_archive: Inventory, truth: tuple[set[tuple[str, str]], set[tuple[str, str]]]
) -> None:
    check_against_truth(from_archive, truth)


def test_from_an_oci_layout(
    from_oci: Inventory, truth: tuple[set[tuple[str, str]], set[tuple[str, str]]]
) -> None:
    check_against_truth(from_oci, truth)
    assert (
        from_oci.image.digest is not None and from_oci.image.digest != from_oci.image.config_digest
    )


def test_three_ways_read_the_same_image(
    from_daemon: Inventory, from_archive: Inventory, from_oci: Inventory
) -> None:
    def contents(inventory: Inventory) -> dict[str, object]:
        data = inventory.to_dict()
        image = data.pop("image")
        return {**data, "layers": image["layers"], "labels": image["labels"]}

    assert contents(from_daemon) == contents(from_archive) == contents(from_oci)
    # skopeo rewrites the config JSON (same content, other bytes); docker save does not.
    assert from_daemon.image.config_digest == from_archive.image.config_digest


@pytest.fixture(scope="module")
def tampered(
    iris: str, docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The example image with another file copied over its model."""
    context = tmp_path_factory.mktemp("tampered")
    (context / "iris.joblib").write_bytes(b"not the model the plan recorded")
    (context / "Dockerfile").write_text(f"FROM {iris}\nCOPY iris.joblib {MODEL}\n")
    try:
        docker_client.images.build(path=str(context), tag=TAMPERED, rm=True)
        yield TAMPERED
    finally:
        remove(docker_client, TAMPERED)


def test_a_tampered_model_is_not_verified(tampered: str) -> None:
    [artifact] = read_inventory(tampered).artifacts
    assert not artifact.verified
    assert artifact.actual_sha256 is not None and artifact.actual_sha256 != artifact.recorded_sha256
    result = CliRunner().invoke(app, ["inventory", tampered])
    assert result.exit_code == 1
    assert f"iris-classifier: {MODEL} NOT verified: the plan recorded sha256 " in result.stdout
    assert result.stderr.endswith(f"1 model artifact(s) NOT verified: {MODEL}\n")


def test_cli_on_the_example(iris: str) -> None:
    result = CliRunner().invoke(app, ["inventory", iris])
    assert result.exit_code == 0, result.output
    assert "OS: Debian GNU/Linux 12 (bookworm)" in result.stdout
    assert f"  iris-classifier: {MODEL} verified (sha256 " in result.stdout


def test_unknown_image_in_the_daemon(docker_client: docker.DockerClient) -> None:
    result = CliRunner().invoke(app, ["inventory", "inventory-test/does-not-exist:0"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: inventory-test/does-not-exist:0: no such file or directory, and no such image in "
        "the Docker daemon (build or pull it, or give the path of an archive or OCI layout)\n"
    )
