"""The Docker daemon through the `docker` SDK (DOCKER_HOST applies): connect, import, build."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagekit.errors import ImagekitError

if TYPE_CHECKING:
    import docker

_DEFAULT_HOST = "unix:///var/run/docker.sock"
# Importing a rootfs or building a CUDA base keeps one API call busy for minutes.
_TIMEOUT_S = 900
# The classic builder's output: " ---> 1b1d72718738" after each step, "Step 6/9 : FROM ...".
_STEP_ID = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
_STAGE_START = re.compile(r"^Step \d+/\d+ : FROM ")


class DaemonUnavailableError(ImagekitError):
    """No Docker daemon answers at DOCKER_HOST (or the default socket)."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"no Docker daemon answers at {host}: start one (dockerd) or point DOCKER_HOST "
            "at one, or build without a daemon: --backend oci"
        )


def docker_host() -> str:
    """The daemon address the SDK will use: DOCKER_HOST, else the current docker context's."""
    # The SDK (and requests under it) is loaded only when a daemon is wanted: `imagekit check`
    # and `--help` import this module without talking to one.
    from docker.context import ContextAPI  # noqa: PLC0415
    from docker.errors import DockerException  # noqa: PLC0415
    from docker.utils import kwargs_from_env  # noqa: PLC0415

    try:
        from_env = kwargs_from_env().get("base_url")
        from_context = ContextAPI.kwargs_from_context().get("base_url")
    except DockerException:  # bad TLS settings or context: docker_client reports the host
        return os.environ.get("DOCKER_HOST") or _DEFAULT_HOST
    return str(from_env or from_context or _DEFAULT_HOST)


def docker_client(timeout: int = _TIMEOUT_S) -> docker.DockerClient:
    """A client for the daemon at DOCKER_HOST that has answered a ping.

    Raises `DaemonUnavailableError` when none answers.
    """
    import docker  # noqa: PLC0415 - see docker_host
    from docker.errors import DockerException  # noqa: PLC0415

    host = docker_host()
    if host.startswith("unix://") and not _socket_answers(host.removeprefix("unix://")):
        # Checked here first: the SDK leaks its socket when a unix connect fails.
        raise DaemonUnavailableError(host)
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (DockerException, OSError) as e:
        # requests' ConnectionError is an OSError; the SDK raises it for a dead socket.
        raise DaemonUnavailableError(host) from e
    return client


def _socket_answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


class DockerBuildError(ImagekitError):
    """The daemon refused an import or a Dockerfile step failed."""


def import_rootfs(client: docker.DockerClient, tarball: Path, changes: Sequence[str]) -> str:
    """Import a root file system tarball as an untagged one-layer image; returns its ID.

    `changes` are Dockerfile instructions (LABEL, ENV, ...) applied to its config.
    Raises `DockerBuildError` when the daemon reports an error.
    """
    output = str(client.api.import_image_from_file(str(tarball), changes=list(changes)))
    for line in reversed(output.strip().splitlines()):
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            raise DockerBuildError(f"docker import failed: {message['error']}")
        status = str(message.get("status", ""))
        if status.startswith("sha256:"):
            return status
    raise DockerBuildError(f"docker import returned no image ID: {output[-200:]}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOptions:
    """How the classic builder runs: hermetic (`network="none"`) unless a step must reach out."""

    network: str = "none"
    no_cache: bool = False
    platform: str | None = None  # `linux/amd64`; None: the daemon's own


def build_image(
    client: docker.DockerClient,
    context: Path,
    *,
    log: Callable[[str], None],
    options: BuildOptions = BuildOptions(),
) -> str:
    """Build `context/Dockerfile` as an untagged image with the classic builder; returns its ID.

    Build stages before the last are removed afterwards, whether the build succeeds or not:
    they hold wheels and tools the image must not, and would stay behind as dangling images.
    Each output line goes to `log`. Raises `DockerBuildError` with the last output lines when
    a step fails, or when the daemon refuses the build or goes away during it.
    """
    from docker.errors import APIError, DockerException  # noqa: PLC0415 - see docker_host

    stages: list[str] = []
    try:
        return _stream_build(client, context, log, options, stages)
    except APIError as e:
        raise DockerBuildError(f"the Docker engine refused the build: {e.explanation}") from e
    except DockerException as e:
        raise DockerBuildError(f"lost the Docker engine during the build: {e}") from e
    finally:
        for stage in stages:
            with suppress(DockerException):  # used by another image, or already gone
                client.api.remove_image(stage)


def _stream_build(
    client: docker.DockerClient,
    context: Path,
    log: Callable[[str], None],
    options: BuildOptions,
    stages: list[str],
) -> str:
    tail: list[str] = []
    image_id = last_step = None
    stream = client.api.build(path=str(context), rm=True, forcerm=True, pull=False,
                              nocache=options.no_cache, network_mode=options.network,
                              platform=options.platform, decode=True)  # fmt: skip
    for chunk in stream:
        for line in str(chunk.get("stream", "")).rstrip().splitlines():
            log(line)
            tail = [*tail[-2:], line]
            if step := _STEP_ID.match(line):
                last_step = step.group(1)
            elif _STAGE_START.match(line) and last_step:
                stages.append(last_step)
        if "error" in chunk:
            last = " | ".join([*tail, str(chunk["error"]).strip()])
            raise DockerBuildError(f"docker build failed: {last}")
        aux = chunk.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            image_id = str(aux["ID"])
    if image_id is None:
        raise DockerBuildError(
            f"docker build reported no image ID (last output: {' | '.join(tail)})"
        )
    return image_id
