"""`imagekit base build` against a real Docker daemon, with real Debian packages and wheels."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import docker
import pytest
from docker.errors import ImageNotFound

from imagekit.build.baseimage import BaseBuildError, BaseBuildResult, build_base
from imagekit.build.bases.recipe import SOURCE_DATE_EPOCH, base_env, base_labels
from imagekit.build.wheelhouse import WheelhouseError
from imagekit.daemon import DaemonUnavailableError, docker_client
from imagekit.plan.catalog import BaseImage, Catalog
from imagekit.resources import base_images_dir

SIX_SHA256 = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
CHILD = """\
name = "test-child-six"
description = "test only: the Debian base plus six"
from = "debian-bookworm-py311"

[[python_packages]]
name = "six"
version = "1.16.0"
sha256 = ["{sha256}"]
"""


def run(client: docker.DockerClient, tag: str, *command: str) -> str:
    output: bytes = client.containers.run(tag, list(command), remove=True)
    return output.decode()


def catalog_with(directory: Path, name: str, text: str) -> Catalog:
    """A catalog of the real Debian base plus one test-only definition."""
    directory.mkdir()
    shutil.copy(base_images_dir() / "debian-bookworm-py311.toml", directory)
    (directory / f"{name}.toml").write_text(text)
    return Catalog.load(directory)


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} is no longer in the Debian recipe"
    return text.replace(old, new)


def remove_tag(client: docker.DockerClient, tag: str) -> None:
    with suppress(ImageNotFound):
        client.images.remove(tag)


def has_tag(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except ImageNotFound:
        return False
    return True


@pytest.fixture
def child_base(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[BaseImage]:
    base = catalog_with(tmp_path / "catalog", "child", CHILD.format(sha256=SIX_SHA256)).get(
        "test-child-six"
    )
    remove_tag(docker_client, base.local_tag)
    yield base
    remove_tag(docker_client, base.local_tag)


# --- without a daemon ---------------------------------------------------------------------


def test_no_daemon_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent")
    with pytest.raises(DaemonUnavailableError) as info:
        docker_client()
    assert str(info.value) == (
        "no Docker daemon answers at unix:///nonexistent: start one (dockerd) or point "
        "DOCKER_HOST at one, or build without a daemon: --backend oci"
    )


def test_cuda_base_labels_name_the_cuda_version_and_driver_floor() -> None:
    base = Catalog.load().get("debian-bookworm-py311-cuda12.4")
    labels = base_labels(base)
    assert labels["io.imagekit.base.cuda"] == "12.4"
    assert labels["io.imagekit.base.min-driver"] == "550.54.14"
    assert labels["io.imagekit.base.recipe-sha256"] == base.recipe_hash
    assert labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    assert base_env(base)["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert SOURCE_DATE_EPOCH == 1_700_000_000


# --- the real Debian base -----------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.slow
def test_debian_base_is_labelled(
    docker_client: docker.DockerClient, debian_base: BaseBuildResult, debian_catalog_base: BaseImage
) -> None:
    image = docker_client.images.get(debian_base.tag)
    assert image.id == debian_base.image_id
    assert image.labels == base_labels(debian_catalog_base)
    assert image.labels["io.imagekit.base.os"] == "debian 12"
    assert image.labels["io.imagekit.base.python"] == "3.11.2"
    assert "io.imagekit.base.cuda" not in image.labels
    env = image.attrs["Config"]["Env"]
    assert "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in env


@pytest.mark.docker
@pytest.mark.slow
def test_debian_base_runs_debian_python_in_the_venv(
    docker_client: docker.DockerClient, debian_base: BaseBuildResult
) -> None:
    version = run(docker_client, debian_base.tag, "/opt/venv/bin/python", "-c",
                  "import sys; print(sys.version.split()[0], sys.prefix)")  # fmt: skip
    assert version == "3.11.2 /opt/venv\n"
    assert run(docker_client, debian_base.tag, "readlink", "-f", "/opt/venv/bin/python") == (
        "/usr/bin/python3.11\n"
    )
    assert run(docker_client, debian_base.tag, "ls", "/opt/venv/bin").split() == [
        "Activate.ps1", "activate", "activate.csh", "activate.fish",
        "python", "python3", "python3.11",
    ]  # fmt: skip


@pytest.mark.docker
@pytest.mark.slow
def test_debian_base_has_no_package_lists_logs_or_caches(
    docker_client: docker.DockerClient, debian_base: BaseBuildResult
) -> None:
    leftovers = run(docker_client, debian_base.tag, "find",
                    "/var/lib/apt/lists", "/var/cache/apt", "/var/log", "-mindepth", "1",
                    "-not", "-type", "d")  # fmt: skip
    assert leftovers == ""
    docs = run(docker_client, debian_base.tag, "find", "/usr/share/doc/python3.11", "-type", "f")
    assert docs == "/usr/share/doc/python3.11/copyright\n"


@pytest.mark.docker
@pytest.mark.slow
def test_a_second_build_reuses_the_base(
    docker_client: docker.DockerClient, debian_base: BaseBuildResult, debian_catalog_base: BaseImage
) -> None:
    messages: list[str] = []
    again = build_base(debian_catalog_base, docker_client, log=messages.append)
    assert again == BaseBuildResult(tag=debian_base.tag, image_id=debian_base.image_id, reused=True)
    assert messages == [f"debian-bookworm-py311: reusing {debian_base.tag}"]


# --- bases built on it --------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.network
@pytest.mark.slow
def test_a_child_base_carries_its_wheel_and_no_pip(
    tmp_path: Path,
    docker_client: docker.DockerClient,
    debian_base: BaseBuildResult,
    child_base: BaseImage,
) -> None:
    result = build_base(child_base, docker_client, cache_dir=tmp_path / "cache", log=print)
    assert (result.tag, result.reused) == (child_base.local_tag, False)
    out = run(docker_client, result.tag, "python", "-c",
              "import six, sys; print(six.__version__, six.__file__)")  # fmt: skip
    assert out == "1.16.0 /opt/venv/lib/python3.11/site-packages/six.py\n"
    site = "/opt/venv/lib/python3.11/site-packages"
    assert run(docker_client, result.tag, "ls", site).split() == ["six-1.16.0.dist-info", "six.py"]
    assert "pip" not in run(docker_client, result.tag, "ls", "/opt/venv/bin")
    assert run(docker_client, result.tag, "sh", "-c", "ls -d /wheelhouse /stage || true") == ""
    mtime = run(docker_client, result.tag, "stat", "-c", "%Y", f"{site}/six.py")
    assert mtime == f"{SOURCE_DATE_EPOCH}\n"
    labels = docker_client.images.get(result.tag).labels
    assert labels["io.imagekit.base.name"] == "test-child-six"
    assert labels["io.imagekit.base.recipe-sha256"] == child_base.recipe_hash


@pytest.mark.docker
@pytest.mark.network
def test_a_child_base_with_a_wrong_hash_leaves_no_tag(
    tmp_path: Path, docker_client: docker.DockerClient, debian_base: BaseBuildResult
) -> None:
    catalog = catalog_with(tmp_path / "catalog", "child", CHILD.format(sha256="0" * 64))
    base = catalog.get("test-child-six")
    with pytest.raises(WheelhouseError, match=r"^six==1\.16\.0: sha256 of six-1\.16\.0-py2"):
        build_base(base, docker_client, cache_dir=tmp_path / "cache", log=print)
    assert not has_tag(docker_client, base.local_tag)


@pytest.mark.docker
def test_an_unreachable_registry_is_one_line_naming_the_reference(
    tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    digest = "sha256:" + "1" * 64
    catalog = catalog_with(tmp_path / "catalog", "remote", f"""\
name = "test-remote"
platforms = ["linux/amd64", "linux/arm64"]
os = {{ distro = "ubuntu", release = "22.04", codename = "jammy", glibc = "2.35" }}
python = {{ version = "3.10.12", path = "/usr/bin/python3" }}
source = {{ image = "127.0.0.1:9/nowhere/cuda", digest = "{digest}" }}
""")  # fmt: skip
    base = catalog.get("test-remote")
    with pytest.raises(BaseBuildError) as info:
        build_base(base, docker_client, log=print)
    message = str(info.value)
    assert message.startswith(
        f"test-remote: cannot pull 127.0.0.1:9/nowhere/cuda@{digest}: the registry is "
        "unreachable or refused it ("
    )
    assert "\n" not in message
    assert not has_tag(docker_client, base.local_tag)


@pytest.mark.docker
def test_without_mmdebstrap_the_error_says_how_to_install_it(
    tmp_path: Path, docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = (base_images_dir() / "debian-bookworm-py311.toml").read_text()
    recipe = replaced(recipe, 'name = "debian-bookworm-py311"', 'name = "test-no-mmdebstrap"')
    catalog = catalog_with(tmp_path / "catalog", "variant", recipe)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BaseBuildError) as info:
        build_base(catalog.get("test-no-mmdebstrap"), docker_client, log=print)
    assert str(info.value) == (
        "test-no-mmdebstrap: mmdebstrap is not installed; install it (apt-get install "
        "mmdebstrap) to build this base from its recipe"
    )


@pytest.mark.docker
def test_a_base_not_defined_for_the_daemons_platform_is_refused(
    tmp_path: Path, docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = docker_client.version()
    daemon = f"{version['Os']}/{version['Arch']}"
    other = "linux/arm64" if daemon == "linux/amd64" else "linux/amd64"
    recipe = (base_images_dir() / "debian-bookworm-py311.toml").read_text()
    recipe = replaced(recipe, 'name = "debian-bookworm-py311"', 'name = "test-other-platform"')
    recipe = replaced(
        recipe, 'platforms = ["linux/amd64", "linux/arm64"]', f'platforms = ["{other}"]'
    )
    catalog = catalog_with(tmp_path / "catalog", "other", recipe)
    with pytest.raises(BaseBuildError) as info:
        build_base(catalog.get("test-other-platform"), docker_client, log=print)
    assert str(info.value) == f"test-other-platform: defined for {other}, not the daemon's {daemon}"
