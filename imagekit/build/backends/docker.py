"""Build with a real Docker engine through the docker SDK (API 1.41, Docker 20.10 and newer).

The image is built untagged with networking disabled, and tagged only once the engine reports
success, so a failed or interrupted build never leaves a tag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import docker.errors

from imagekit.build.backends.interface import BackendKind, BuildError, BuildResult, Progress
from imagekit.build.baseimage import build_base
from imagekit.plan.catalog import BaseImage
from imagekit.plan.model import BuildPlan


class DockerBackend:
    kind = BackendKind.DOCKER

    def __init__(self, client: docker.DockerClient, *, no_cache: bool = False) -> None:
        self.client = client
        self.no_cache = no_cache

    def close(self) -> None:
        self.client.close()

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """Build or reuse the base in the daemon; raises `BaseBuildError`."""
        return build_base(base, self.client, log=progress).image_id

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Build the context; raises `BuildError` with the engine's message on failure."""
        image_id = self._stream_build(context, plan.platform, progress)
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
        )

    def _stream_build(self, context: Path, platform: str, progress: Progress) -> str:
        image_id = None
        last = ""
        try:
            stream = self.client.api.build(
                path=str(context),
                rm=True,
                forcerm=True,
                nocache=self.no_cache,
                pull=False,
                decode=True,
                network_mode="none",
                platform=platform,
            )
            for event in stream:
                if "error" in event:
                    detail = str(event.get("error", "")).strip()
                    raise BuildError(f"the image build failed: {detail or last}")
                text = str(event.get("stream", "")).rstrip()
                if text:
                    last = text
                    for line in text.splitlines():
                        progress(line)
                aux = event.get("aux")
                if isinstance(aux, dict) and "ID" in aux:
                    image_id = str(aux["ID"])
        except docker.errors.APIError as e:
            raise BuildError(f"the Docker engine refused the build: {e.explanation}") from e
        except docker.errors.DockerException as e:
            raise BuildError(f"lost the Docker engine during the build: {e}") from e
        if image_id is None:
            raise BuildError(f"the engine reported no image id (last output: {last})")
        return image_id
