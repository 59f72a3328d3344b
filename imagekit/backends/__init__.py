"""Build backends behind one interface; `get_backend` chooses one by its kind."""

from __future__ import annotations

from typing import assert_never

from imagekit.backends.docker import DockerBackend
from imagekit.backends.interface import (
    BackendKind,
    BuildBackend,
    BuildError,
    BuildResult,
    Progress,
)
from imagekit.daemon import docker_client

__all__ = ["BackendKind", "BuildBackend", "BuildError", "BuildResult", "Progress", "get_backend"]


def get_backend(kind: BackendKind, *, no_cache: bool = False) -> BuildBackend:
    """The backend of `kind`; raises `DaemonUnavailableError` when its engine is not running."""
    match kind:
        case BackendKind.DOCKER:
            return DockerBackend(docker_client(), no_cache=no_cache)
        case _:
            assert_never(kind)
