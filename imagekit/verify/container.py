"""Run the verify command in an image through the Docker SDK, confined and always removed.

Inputs are mounted read-only, one output folder read-write; no network; memory, CPU and
process limits; a wall-clock limit after which the container is killed. Every container
carries the label `io.imagekit.verify=1` and is removed whatever happens.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from imagekit.daemon import docker_host
from imagekit.verify.results import ImageRun, RunStatus, VerifyError

LABEL = "io.imagekit.verify"
INPUTS_MOUNT = "/imagekit/verify/inputs"
OUTPUTS_MOUNT = "/imagekit/verify/outputs"
LOG_LINES = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What one verify run may use."""

    timeout_s: float = 300.0
    memory: str = "4g"
    cpus: float = 2.0
    pids: int = 512


class ImageNotFoundError(VerifyError):
    """The image to verify is not in the daemon."""

    def __init__(self, image: str) -> None:
        self.image = image
        super().__init__(
            f"image {image} not found in the Docker daemon at {docker_host()}: "
            f"build it (imagekit build --tag {image}) or pull it"
        )


def image_id(client: docker.DockerClient, image: str) -> str:
    """The ID of a local image; raises `ImageNotFoundError` (never pulls)."""
    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        raise ImageNotFoundError(image) from None
    except docker.errors.APIError as e:  # an invalid reference format
        raise VerifyError(f"cannot look up image {image}: {e.explanation or e}") from e


def output_folder(parent: Path | None = None) -> Path:
    """A fresh folder the image's user (uid 10001, or any other) can write into."""
    folder = Path(tempfile.mkdtemp(prefix="imagekit-verify-out-", dir=parent))
    folder.chmod(0o777)  # the container runs as the image's non-root user
    return folder


def run_command(
    client: docker.DockerClient,
    *,
    role: str,
    image: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    inputs: Path,
    outputs: Path,
    limits: Limits,
) -> ImageRun:
    """Run `argv` in `image` with `inputs` and `outputs` mounted; the container is removed.

    Raises `VerifyError` when the daemon refuses to create or start the container.
    """
    ident = image_id(client, image)
    try:
        container = client.containers.create(ident, **_config(argv, env, inputs, outputs, limits))
    except docker.errors.APIError as e:
        raise VerifyError(f"cannot create a container of {image}: {e.explanation or e}") from e
    started = time.monotonic()
    try:
        return _run(container, role=role, image=image, ident=ident, limits=limits, started=started)
    finally:
        with suppress(docker.errors.NotFound):
            container.remove(force=True)


def _config(
    argv: Sequence[str], env: Mapping[str, str], inputs: Path, outputs: Path, limits: Limits
) -> dict[str, Any]:
    return {
        "entrypoint": [argv[0]],
        "command": list(argv[1:]),
        "environment": {
            **env,
            "IMAGEKIT_VERIFY_INPUTS": INPUTS_MOUNT,
            "IMAGEKIT_VERIFY_OUTPUTS": OUTPUTS_MOUNT,
        },
        "volumes": {
            os.fspath(inputs.resolve()): {"bind": INPUTS_MOUNT, "mode": "ro"},
            os.fspath(outputs.resolve()): {"bind": OUTPUTS_MOUNT, "mode": "rw"},
        },
        "network_mode": "none",
        "labels": {LABEL: "1"},
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
    }


def _run(
    container: Any, *, role: str, image: str, ident: str, limits: Limits, started: float
) -> ImageRun:
    try:
        container.start()
    except docker.errors.APIError as e:
        raise VerifyError(f"cannot start the verify command in {image}: {e.explanation}") from e
    code = _wait(container, limits.timeout_s)
    seconds = time.monotonic() - started
    if code is None:
        with suppress(docker.errors.APIError):  # it may have exited just now
            container.kill()
    status = RunStatus.TIMEOUT if code is None else RunStatus.OK if code == 0 else RunStatus.FAILED
    return ImageRun(
        role=role,
        image=image,
        image_id=ident,
        status=status,
        exit_code=code,
        seconds=seconds,
        log_tail=_tail(container),
    )


def _wait(container: Any, timeout_s: float) -> int | None:
    """The exit status, or None when the command still runs after `timeout_s`."""
    try:
        result = container.wait(timeout=timeout_s)
    except requests.exceptions.ConnectionError:  # the SDK's read timeout on the socket
        container.reload()
        if container.status == "running":
            return None
        result = container.wait(timeout=10)
    return int(result["StatusCode"])


def _tail(container: Any) -> tuple[str, ...]:
    try:
        raw = container.logs(stdout=True, stderr=True, tail=LOG_LINES)
    except docker.errors.APIError:
        return ()
    return tuple(bytes(raw).decode("utf-8", errors="replace").splitlines()[-LOG_LINES:])
