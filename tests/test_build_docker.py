"""`imagekit build --backend docker` on a real Docker daemon: imagekit's own layers, loaded into
the daemon a layer at most once; the image is the oci backend's, byte for byte.
CI starts the daemon (.ci/dockerd-start.sh)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from _projects import EXAMPLE, copy_project, edit_spec

from imagekit.build.backends import BackendKind, Outputs
from imagekit.build.oci import daemonload, read_layout
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.errors import FindingsError
from imagekit.image.errors import OciError
from imagekit.image.model import Compression

pytestmark = [pytest.mark.docker, pytest.mark.slow]

TAG = "imagekit-test/iris-docker"


def build(project: Path, tag: str, lines: list[str] | None = None, **kw: object) -> BuildOutcome:
    return build_project(
        project,
        progress=(lines if lines is not None else []).append,
        tag=tag,
        backend=BackendKind.DOCKER,
        **kw,  # type: ignore[arg-type]
    )


def remove(client: docker.DockerClient, *tags: str) -> None:
    for tag in tags:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag, noprune=False)


def predictions(client: docker.DockerClient, tag: str) -> list[str]:
    output = client.containers.run(
        tag, ["/app/reference/inputs.csv"], remove=True, network_mode="none"
    )
    return [json.loads(line)["class"] for line in bytes(output).decode().splitlines()]


def loading(lines: list[str]) -> list[str]:
    return [x for x in lines if "into the Docker daemon" in x or "already in the Docker" in x]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(EXAMPLE, tmp_path_factory.mktemp("docker") / "iris")


@pytest.fixture(scope="module")
def first(project: Path, docker_client: docker.DockerClient) -> Iterator[BuildOutcome]:
    outcome = build(project, f"{TAG}:1")
    yield outcome
    remove(docker_client, f"{TAG}:1", f"{TAG}:2", f"{TAG}:3")


def test_the_daemons_image_is_the_layout_beside_the_record(
    first: BuildOutcome, docker_client: docker.DockerClient
) -> None:
    image = read_layout(Path(first.result.layout), f"{TAG}:1")
    attrs = docker_client.images.get(f"{TAG}:1").attrs
    assert attrs["Id"] == image.manifest.config.digest == first.result.image_id
    assert attrs["RootFS"]["Layers"] == [x.diff_id for x in image.layers]
    assert json.loads(first.record.read_text())["image_id"] == attrs["Id"]
    assert first.sbom is not None and first.sbom.is_file()


def test_the_image_predicts(first: BuildOutcome, docker_client: docker.DockerClient) -> None:
    expected = json.loads((EXAMPLE / "reference" / "expected.json").read_text())["predictions"]
    assert predictions(docker_client, first.result.tag) == [e["class"] for e in expected]


def test_the_oci_backend_builds_the_same_image(
    first: BuildOutcome, project: Path, tmp_path: Path
) -> None:
    said: list[str] = []
    oci = build_project(project, progress=said.append, backend=BackendKind.OCI,
                        output=tmp_path / "out", tag=f"{TAG}:1")  # fmt: skip
    layout = read_layout(Path(oci.result.location), f"{TAG}:1")
    assert layout.manifest.config.digest == first.result.image_id


def test_a_rebuild_sends_the_changed_layers_only(
    first: BuildOutcome, project: Path, docker_client: docker.DockerClient
) -> None:
    lines: list[str] = []
    build(project, f"{TAG}:1", lines)  # nothing changed: the daemon has it all
    assert loading(lines) == [f"{TAG}:1: already in the Docker daemon, tagged"]

    app = project / "src" / "iris_model" / "predict.py"
    app.write_text(app.read_text() + "# edited\n")
    lines.clear()
    edited = build(project, f"{TAG}:2", lines)
    layers = len(edited.result.layers)
    # the app layer and the plan stored after it; the base, users, wheels and model stay
    [sent] = loading(lines)
    assert sent.startswith(f"loading {TAG}:2 into the Docker daemon: 2 of {layers} layers, ")
    assert edited.result.layers[:-2] == first.result.layers[:-2]
    assert predictions(docker_client, f"{TAG}:2")[0] == "setosa"


def test_a_daemon_that_lost_the_layers_gets_them_all(
    first: BuildOutcome, docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = Path(first.result.layout)  # the model's layout: the latest build's image
    image = read_layout(layout)
    tag = f"{TAG}:3"
    # No image holds this model's layers any more, but the load is told all but the last
    # are there (another build removed them between the look and the load).
    remove(docker_client, f"{TAG}:1", f"{TAG}:2", f"{TAG}:3")
    monkeypatch.setattr(daemonload, "present_layers", lambda *_: len(image.layers) - 1)
    lines: list[str] = []
    loaded = daemonload.load_image(docker_client, layout, image, tag, mtime=0,
                                   progress=lines.append)  # fmt: skip
    assert lines[0].startswith(f"loading {tag} into the Docker daemon: 1 of ")
    assert lines[1] == "the Docker daemon lacks layers it was found to hold; sending every layer"
    assert loaded.sent == loaded.layers == len(image.layers)
    assert docker_client.images.get(tag).id == image.manifest.config.digest


def test_a_denied_licence_leaves_no_tag_and_no_layout(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "policy.toml").write_text('deny = ["BSD-3-Clause"]\n')
    edit_spec(project, 'workdir = "/app"', 'workdir = "/app"\nlicense_policy = "policy.toml"')
    tag = f"{TAG}:denied"
    with pytest.raises(FindingsError):
        build(project, tag)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)
    assert not (project / ".imagekit" / "oci").exists()


def test_an_old_daemon_refuses_zstd_before_the_build(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    version = str(docker_client.version().get("Version", ""))
    if not version.startswith(("1", "20.")):
        pytest.skip(f"the daemon here is Docker Engine {version}, which loads zstd layers")
    project = copy_project(EXAMPLE, tmp_path / "iris")
    with pytest.raises(OciError, match=r"^--compression zstd --backend docker: the Docker daemon"):
        build(project, f"{TAG}:zstd", outputs=Outputs(compression=Compression.ZSTD))
    assert not (project / ".imagekit" / "oci").exists()
