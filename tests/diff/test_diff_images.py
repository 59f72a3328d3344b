"""`imagekit diff` of two real images: the iris example built once with each numpy, read back
through their Inventories. Needs a Docker daemon (DOCKER_HOST) and the package index."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from imagekit.build.baseimage import BaseBuildResult
from imagekit.build.pipeline import build_project
from imagekit.diff import diff, to_markdown

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
IRIS = REPO / "examples" / "iris"
BUMPED_LOCK = REPO / "tests" / "data" / "diff" / "requirements.iris-numpy-2.4.lock"
TAGS = ("diff-test/iris:a", "diff-test/iris:b")


@pytest.fixture
def two_images(
    tmp_path: Path, docker_client: docker.DockerClient, debian_base: BaseBuildResult
) -> Iterator[tuple[str, str]]:
    """iris with numpy 2.3.5 (the example's lock) and with numpy 2.4.1; both tags removed after."""
    try:
        for tag, lock in zip(TAGS, (None, BUMPED_LOCK), strict=True):
            copy = tmp_path / tag.rsplit(":", 1)[1]
            shutil.copytree(IRIS, copy, ignore=shutil.ignore_patterns(".imagekit", "__pycache__"))
            if lock is not None:
                shutil.copyfile(lock, copy / "requirements.lock")
            build_project(copy, progress=lambda _: None, tag=tag)
        yield TAGS
    finally:
        for tag in TAGS:
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_client.images.remove(tag, noprune=False)


def test_two_real_images_differ_in_numpy_and_it_is_numeric_risk(
    two_images: tuple[str, str],
) -> None:
    old, new = two_images
    result = diff(old, new)
    python = [
        (c.name, c.old, c.new, c.risk.value) for c in result.changes if c.subject.value == "python"
    ]
    assert python == [("numpy", "2.3.5", "2.4.1", "numeric-risk")]
    # numpy 2.4 declares a PEP 639 License-Expression where 2.3.5 had only a classifier: a real
    # licence change. Same base, same model file, no CUDA: nothing else changed in the images.
    (licence,) = [c for c in result.changes if c.subject.value == "licence"]
    assert (licence.name, licence.new, licence.risk.value) == (
        "numpy",
        "BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0",
        "behaviour",
    )
    assert [c.subject.value for c in result.changes] == ["python", "licence"]
    markdown = to_markdown(result)
    assert "**1 numeric-risk**, **1 behaviour**, 0 benign" in markdown
    assert "| python | numpy | upgraded | 2.3.5 | 2.4.1 | array kernels" in markdown
