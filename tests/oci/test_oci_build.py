"""`imagekit build --backend oci` on the real example: reproducible, layered, interruptible, and
the image runs in Docker. Wheels come from the package index (cached); no daemon is needed
except for the tests marked `docker`."""

from __future__ import annotations

import contextlib
import json
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from _projects import EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.build.backends import BackendKind, Outputs
from imagekit.build.oci import (
    OciBase,
    default_cache_root,
    ensure_base,
    read_layout,
    save_from_daemon,
)
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.cli import app
from imagekit.image.layout import blob_path
from imagekit.plan.catalog import BaseImage, Catalog
from imagekit.resources import base_images_dir

pytestmark = [pytest.mark.network, pytest.mark.slow]
TAG = "imagekit-test-oci/iris:1"


def build(
    project: Path,
    *,
    no_cache: bool = False,
    outputs: Outputs | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildOutcome:
    lines: list[str] = []
    return build_project(
        project,
        progress=progress or lines.append,
        backend=BackendKind.OCI,
        no_cache=no_cache,
        outputs=outputs,
        tag=TAG,
    )


@pytest.fixture(scope="module")
def oci_debian_base(debian_catalog_base: BaseImage) -> OciBase:
    """The real `debian-bookworm-py311` as an OCI layout in the user cache: built with
    mmdebstrap (about a minute) or reused."""
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    return ensure_base(debian_catalog_base, cache_root=default_cache_root(), log=print)


@pytest.fixture(scope="module")
def first(oci_debian_base: OciBase, tmp_path_factory: pytest.TempPathFactory) -> BuildOutcome:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("first") / "iris")
    return build(project, no_cache=True)


def test_two_clean_builds_give_one_digest(first: BuildOutcome, tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    second = build(project, no_cache=True)  # every layer written again, none reused
    assert second.result.image_id == first.result.image_id
    assert second.result.layers == first.result.layers
    layout = project / ".imagekit" / "oci"
    image = read_layout(layout, TAG)
    assert image.manifest_digest == second.result.image_id
    assert image.config.user == "10001:10001"
    # Outside git the image is as old as its base (bases/recipe.py's SOURCE_DATE_EPOCH).
    assert image.config.created == "2023-11-14T22:13:20Z"
    assert {h.created for h in image.config.history[1:]} == {"2023-11-14T22:13:20Z"}
    annotations = dict(image.manifest.annotations)
    assert annotations["org.opencontainers.image.title"] == "iris-classifier"
    assert annotations["org.opencontainers.image.base.digest"] == first.plan.base.digest
    record = json.loads(second.record.read_text())
    assert record["image_id"] == second.result.image_id
    assert record["size"] == second.result.size


def test_an_app_edit_changes_only_the_app_and_plan_layers(
    first: BuildOutcome, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    source = project / "src" / "iris_model" / "predict.py"
    source.write_text(source.read_text() + "# edited\n")
    lines: list[str] = []
    edited = build(project, progress=lines.append)
    before, after = first.result.layers, edited.result.layers
    assert len(before) == len(after)
    assert before[:-2] == after[:-2]  # base, users, python, artifacts
    assert before[-2] != after[-2] and before[-1] != after[-1]  # app, plan
    assert "layer python: reused" in "\n".join(lines)


def test_a_rebuilds_sbom_is_the_sbom_made_from_scratch(first: BuildOutcome, tmp_path: Path) -> None:
    # The rebuild's read-back takes the unchanged layers from their kept scans; `imagekit sbom`
    # of the same layout reads every byte. Both must say the same, to the byte.
    project = copy_project(EXAMPLE, tmp_path / "iris")
    source = project / "src" / "iris_model" / "predict.py"
    source.write_text(source.read_text() + "# edited again\n")
    edited = build(project)
    assert edited.sbom is not None
    fresh = tmp_path / "fresh.cdx.json"
    layout = project / ".imagekit" / "oci"
    result = CliRunner().invoke(app, ["sbom", str(layout), "--reproducible", "-o", str(fresh)])
    assert result.exit_code == 0, result.output
    assert fresh.read_bytes() == edited.sbom.read_bytes()


def test_an_interrupted_build_leaves_no_layout(oci_debian_base: OciBase, tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")

    def interrupt(line: str) -> None:
        if line == "layer app: writing":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(project, progress=interrupt)
    assert sorted(p.name for p in (project / ".imagekit").iterdir()) == []


def test_without_a_daemon_the_cli_builds_daemonless(
    oci_debian_base: OciBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    project = copy_project(EXAMPLE, tmp_path / "iris")
    layout = tmp_path / "layout"
    archive = tmp_path / "iris.tar"
    result = CliRunner().invoke(
        app, ["build", str(project), "--oci-dir", str(layout), "--archive", str(archive)]
    )
    assert result.exit_code == 0, result.output
    with tarfile.open(archive) as tar:
        assert json.loads(tar.extractfile("manifest.json").read())[0]["RepoTags"] == [  # type: ignore[union-attr]
            "iris-classifier:1.0.0"
        ]
    assert ": building with --backend oci" in result.stderr
    digest = read_layout(layout).manifest_digest
    assert f"built iris-classifier:1.0.0  {digest}" in result.stdout


def test_load_needs_a_daemon(
    oci_debian_base: OciBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    project = copy_project(EXAMPLE, tmp_path / "iris")
    result = CliRunner().invoke(app, ["build", str(project), "--backend", "oci", "--load"])
    assert result.exit_code == 2
    assert "no Docker daemon answers" in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def loaded(
    oci_debian_base: OciBase, docker_client: docker.DockerClient, tmp_path: Path
) -> Iterator[BuildOutcome]:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    archive = tmp_path / "iris.tar"
    outcome = build(project, outputs=Outputs(archive=archive, load=True))
    assert archive.is_file()
    yield outcome
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(TAG, noprune=False)


@pytest.mark.docker
def test_the_loaded_image_predicts(
    loaded: BuildOutcome, docker_client: docker.DockerClient
) -> None:
    image = docker_client.images.get(TAG)
    layout = read_layout(loaded.record.parent / "oci", TAG)
    assert image.id == layout.manifest.config.digest  # the daemon's image id is our config's
    assert image.attrs["Config"]["User"] == "10001:10001"
    assert image.attrs["RootFS"]["Layers"] == list(loaded.result.layers)
    output = docker_client.containers.run(
        TAG, ["/app/reference/inputs.csv"], remove=True, network_mode="none"
    )
    rows = [json.loads(line) for line in bytes(output).decode().splitlines()]
    expected = json.loads((EXAMPLE / "reference" / "expected.json").read_text())["predictions"]
    assert [r["class"] for r in rows] == [e["class"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6)


def test_system_packages_without_dpkg_running(oci_debian_base: OciBase, tmp_path: Path) -> None:
    # bookworm's current libgomp1 (a point release of gcc-12 would change this pin)
    pin = "libgomp1=12.2.0-14+deb12u1"
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, "[app]", f'[system]\npackages = ["{pin}"]\n\n[app]')
    outcome = build(project)
    assert outcome.plan.layers[0].name == "system"
    layout = project / ".imagekit" / "oci"
    image = read_layout(layout, TAG)
    system = image.layers[len(oci_debian_base.image.layers)]
    with tarfile.open(blob_path(layout, system.descriptor.digest)) as tar:
        names = set(tar.getnames())
        status = tar.extractfile("var/lib/dpkg/status").read().decode()  # type: ignore[union-attr]
    assert "usr/lib/x86_64-linux-gnu/libgomp.so.1" in names
    assert not [n for n in names if n == "lib" or n.startswith("lib/")]  # /lib stays a link
    assert "var/lib/dpkg/info/libgomp1:amd64.list" in names
    stanza = next(s for s in status.split("\n\n") if s.startswith("Package: libgomp1\n"))
    assert "Status: install ok installed\n" in stanza
    assert "Version: 12.2.0-14+deb12u1\n" in stanza
    assert "Package: libc6\n" in status  # the base's packages are still there


@pytest.mark.docker
def test_system_packages_work_in_the_container(
    oci_debian_base: OciBase, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    pin = "libgomp1=12.2.0-14+deb12u1"
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, "[app]", f'[system]\npackages = ["{pin}"]\n\n[app]')
    tag = "imagekit-test-oci/iris:system"
    try:
        build_project(
            project,
            progress=lambda _: None,
            backend=BackendKind.OCI,
            tag=tag,
            outputs=Outputs(load=True),
        )
        script = (
            "dpkg-query -W -f='${Package}=${Version} ${Status}\\n' libgomp1; "
            'python -c \'import ctypes; ctypes.CDLL("libgomp.so.1"); print("loaded")\''
        )
        output = docker_client.containers.run(
            tag, ["-c", script], entrypoint="sh", remove=True, network_mode="none"
        )
        lines = bytes(output).decode().splitlines()
        assert lines == [f"{pin} install ok installed", "loaded"]
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, noprune=False)


SIX_BASE = """\
name = "debian-bookworm-py311-six"
from = "debian-bookworm-py311"

[[python_packages]]
name = "six"
version = "1.16.0"
sha256 = ["8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"]
"""


def test_a_base_from_a_parent_adds_its_packages(oci_debian_base: OciBase, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(base_images_dir() / "debian-bookworm-py311.toml", catalog)
    (catalog / "six.toml").write_text(SIX_BASE)
    base = Catalog.load(catalog).get("debian-bookworm-py311-six")
    shutil.rmtree(default_cache_root() / "bases" / base.recipe_hash, ignore_errors=True)
    built = [ensure_base(base, cache_root=default_cache_root(), log=print) for _ in range(2)]
    shutil.rmtree(default_cache_root() / "bases" / base.recipe_hash)
    again = ensure_base(base, cache_root=default_cache_root(), log=print)
    assert built[0] == built[1]  # the second was reused
    assert again.image.manifest_digest == built[0].image.manifest_digest  # and rebuilt the same
    image = again.image
    assert image.layers[:-1] == oci_debian_base.image.layers
    assert dict(image.config.labels)["io.imagekit.base.name"] == "debian-bookworm-py311-six"
    assert image.config.env_map["VIRTUAL_ENV"] == "/opt/venv"
    with tarfile.open(blob_path(again.layout, image.layers[-1].descriptor.digest)) as tar:
        names = tar.getnames()
    site = "opt/venv/lib/python3.11/site-packages"
    assert f"{site}/six.py" in names
    assert f"{site}/six-1.16.0.dist-info/RECORD" in names
    assert not [n for n in names if n.endswith(".pyc")]  # as `imagekit base build`: no bytecode


@pytest.mark.docker
def test_an_image_read_back_from_the_daemon(
    loaded: BuildOutcome, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    # what a base held by a daemon goes through: `docker save`, read into an OCI layout
    back = save_from_daemon(docker_client, TAG, tmp_path / "back")
    ours = read_layout(loaded.record.parent / "oci", TAG)
    assert back.manifest.config.digest == ours.manifest.config.digest
    assert back.layers[-1].diff_id == ours.layers[-1].diff_id
    assert tuple(x.diff_id for x in back.layers) == loaded.result.layers
