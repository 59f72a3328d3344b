"""Shared fixtures: a real Docker daemon, and the real Debian base built in it once."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest
from _skip_summary import pytest_unconfigure  # noqa: F401  (a hook: skips counted at the end)

from imagekit.build.baseimage import BaseBuildResult, build_base
from imagekit.daemon import DaemonUnavailableError
from imagekit.daemon import docker_client as connect
from imagekit.plan.catalog import BaseImage, Catalog

NO_DAEMON = (
    "no Docker daemon (DOCKER_HOST unset/unreachable); CI starts one via .ci/dockerd-start.sh"
)
DEBIAN_BASE = "debian-bookworm-py311"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client for the daemon at DOCKER_HOST; skips the test when none answers."""
    try:
        client = connect()
    except DaemonUnavailableError:
        pytest.skip(NO_DAEMON)
    yield client
    client.close()


@pytest.fixture(scope="session")
def debian_catalog_base() -> BaseImage:
    """The catalog's real Debian base definition."""
    return Catalog.load().get(DEBIAN_BASE)


@pytest.fixture(scope="session")
def debian_base(
    docker_client: docker.DockerClient, debian_catalog_base: BaseImage
) -> BaseBuildResult:
    """The real `debian-bookworm-py311` base, built with mmdebstrap (about 30 s) or reused."""
    return build_base(debian_catalog_base, docker_client, log=print)
