"""What the places an image goes to can read: zstd layers need a Docker Engine of 23.0 or later.

Docker reads zstd-compressed layers since moby/moby#41759 (merged after the 20.10 branch, first
released in Docker Engine 23.0); an older daemon fails `docker load` of such an image with an
error about an unknown compression. The refusal comes before the build, in one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from imagekit.image.errors import OciError
from imagekit.image.model import Compression

if TYPE_CHECKING:
    import docker

ZSTD_DOCKER = Version("23.0")


def daemon_version(client: docker.DockerClient) -> str:
    """The Docker Engine version the daemon reports (`docker version`'s Server.Version)."""
    return str(client.version().get("Version", ""))


def check_loadable(
    compression: Compression,
    version: str,
    *,
    asked: str = "--load",
    instead: str = "leave out --load and push the image instead",
) -> None:
    """Raise `OciError` when a Docker Engine of `version` cannot load `compression` layers;
    the message names the option that `asked` for the load and what to do `instead`."""
    if compression is Compression.GZIP:
        return
    try:  # "20.10.24+dfsg1" (Debian's), "27.3.1", "28.0.0-rc.1": the release is enough
        release = Version(version.split("+", maxsplit=1)[0].split("-", maxsplit=1)[0])
    except InvalidVersion:
        return  # a version this cannot read: let the daemon answer for itself
    if release < ZSTD_DOCKER:
        raise OciError(
            f"--compression {compression.value} {asked}: the Docker daemon is {version}, which "
            f"cannot load {compression.value} layers (Docker Engine {ZSTD_DOCKER} and later "
            f"can); use the default gzip, or {instead}"
        )
