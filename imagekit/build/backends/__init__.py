"""Build backends behind one interface; `get_backend` chooses one by its kind."""

from __future__ import annotations

from typing import assert_never

from imagekit.build.backends.interface import (
    BackendKind,
    BuildBackend,
    BuildError,
    BuildResult,
    Outputs,
    Progress,
)
from imagekit.daemon import docker_client

__all__ = [
    "BackendKind",
    "BuildBackend",
    "BuildError",
    "BuildResult",
    "Outputs",
    "Progress",
    "get_backend",
]


def get_backend(
    kind: BackendKind, *, no_cache: bool = False, outputs: Outputs | None = None
) -> BuildBackend:
    """The backend of `kind`; raises `DaemonUnavailableError` when its engine is not running,
    `BuildError` for outputs it cannot give (an OCI layout or archive from the docker backend)
    or for the buildah backend's missing tools.
    """
    # The engines are imported here: `BackendKind` is a CLI choice, and its package must load
    # without the docker SDK, the assembler and their dependencies.
    from imagekit.build.backends.buildah import BuildahBackend  # noqa: PLC0415
    from imagekit.build.backends.docker import DockerBackend  # noqa: PLC0415
    from imagekit.build.backends.oci import OciBackend  # noqa: PLC0415

    outputs = outputs or Outputs()
    match kind:
        case BackendKind.DOCKER:
            if outputs.oci_dir or outputs.archive:
                raise BuildError(
                    "--oci-dir and --archive need --backend oci; the docker backend leaves "
                    "its image in the daemon (docker save it from there)"
                )
            return DockerBackend(docker_client(), no_cache=no_cache)
        case BackendKind.OCI:
            # --load needs a daemon: found now, before the build, not after it
            client = docker_client() if outputs.load else None
            return OciBackend(no_cache=no_cache, outputs=outputs, client=client)
        case BackendKind.BUILDAH:
            client = docker_client() if outputs.load else None
            return BuildahBackend(no_cache=no_cache, outputs=outputs, client=client)
        case _:
            assert_never(kind)
