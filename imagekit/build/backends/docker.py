"""Build with a real Docker engine through the docker SDK (API 1.41, Docker 20.10 and newer).

The image is built untagged with networking disabled, and tagged only once the engine reports
success, so a failed or interrupted build never leaves a tag. The image lives in the daemon.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import docker
import docker.errors

from imagekit.build.backends.interface import (
    BackendKind,
    BuildError,
    BuildResult,
    Capabilities,
    ImageHome,
    Outputs,
    Progress,
)
from imagekit.build.baseimage import build_base
from imagekit.daemon import (
    BuildOptions,
    DaemonUnavailableError,
    DockerBuildError,
    build_image,
    docker_client,
)
from imagekit.plan.catalog import BaseImage
from imagekit.plan.model import BuildPlan

# A ping that waits this long is a daemon that is not there, for choosing a backend.
_PROBE_TIMEOUT_S = 10


class DockerBackend:
    kind: ClassVar[BackendKind] = BackendKind.DOCKER
    capabilities: ClassVar[Capabilities] = Capabilities(
        home=ImageHome.DAEMON,
        parallel=False,  # the legacy builder runs one build at a time anyway
        unreproducible="the docker builder stamps the build time into every layer and the config",
    )

    def __init__(self, client: docker.DockerClient, *, no_cache: bool = False) -> None:
        self.client = client
        self.no_cache = no_cache

    @classmethod
    def open(cls, *, no_cache: bool, outputs: Outputs) -> Self:
        """Connected to the daemon at DOCKER_HOST. Raises `BuildError` for an OCI layout or an
        archive (the image stays in the daemon), `DaemonUnavailableError` without a daemon."""
        if outputs.oci_dir or outputs.archive:
            raise BuildError(
                "--oci-dir and --archive need --backend oci; the docker backend leaves "
                "its image in the daemon (docker save it from there)"
            )
        return cls(docker_client(), no_cache=no_cache)

    @classmethod
    def unavailable(cls) -> str:
        """Empty when a daemon answers at DOCKER_HOST."""
        try:
            docker_client(timeout=_PROBE_TIMEOUT_S).close()
        except DaemonUnavailableError as e:
            return f"no Docker daemon at {e.host}"
        return ""

    def close(self) -> None:
        self.client.close()

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """Build or reuse the base in the daemon; raises `BaseBuildError`."""
        return build_base(base, self.client, log=progress).image_id

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Build the context; raises `BuildError` with the engine's message on failure."""
        options = BuildOptions(no_cache=self.no_cache, platform=plan.platform)
        try:
            image_id = build_image(self.client, context, log=progress, options=options)
        except DockerBuildError as e:
            raise BuildError(str(e)) from e
        repository, _, version = tag.rpartition(":")
        try:
            self.client.api.tag(image_id, repository, version)
            attrs: dict[str, Any] = self.client.images.get(image_id).attrs
        except docker.errors.APIError as e:
            raise BuildError(f"tagging {tag} failed: {e.explanation}") from e
        return BuildResult(
            image_id=image_id,
            tag=tag,
            size=int(attrs.get("Size", 0)),
            layers=tuple(attrs.get("RootFS", {}).get("Layers", [])),
            home=ImageHome.DAEMON,
            location=image_id,
        )

    def withdraw(self, result: BuildResult) -> None:
        """Untag the image; the daemon removes it when no other tag holds it."""
        self.client.images.remove(result.tag, noprune=False)
