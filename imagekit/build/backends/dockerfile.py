"""Build the rendered Dockerfile with a Docker engine's classic builder, through the docker
SDK (API 1.41, Docker 20.10 and newer): pip installs the wheelhouse inside the build.

`--backend docker` puts imagekit's own layers into the same daemon, faster and reproducibly;
this backend is for a team that wants the Dockerfile itself built by the engine. The image is
built untagged with networking disabled, and tagged only once the engine reports
success, so a failed or interrupted build never leaves a tag. The image lives in the daemon.

The classic builder's log (every line pip prints, its "not on PATH" warnings among them) is
summarised to one line per Dockerfile step, a stage starting with its FROM step; the whole log
is passed on with `--verbose` (`progress.verbose()`), and replayed when the build fails.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
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
from imagekit.build.context import PrefetchedLayer
from imagekit.daemon import (
    BuildOptions,
    DaemonUnavailableError,
    DockerBuildError,
    build_image,
    docker_client,
)
from imagekit.plan.catalog import BaseImage
from imagekit.plan.model import BuildPlan
from imagekit.progress import step as progress_step
from imagekit.progress import verbose

# A ping that waits this long is a daemon that is not there, for choosing a backend.
_PROBE_TIMEOUT_S = 10
_STEP = re.compile(r"^Step \d+/\d+ : ")
# A step's line is cut here: a RUN line holds a whole shell script.
_STEP_WIDTH = 100
# The log kept for a failure: the pip install of a large lock is a few thousand lines.
_KEPT_LINES = 20_000


class _Summary:
    """The classic builder's log for a person: its `Step 3/9 : RUN ...` lines, the rest kept."""

    def __init__(self, progress: Progress, *, verbose: bool) -> None:
        self.progress = progress
        self.verbose = verbose
        self.log: deque[str] = deque(maxlen=_KEPT_LINES)

    def __call__(self, line: str) -> None:
        self.log.append(line)
        if self.verbose:
            self.progress(line)
        elif _STEP.match(line):
            text = " ".join(line.split())
            self.progress(text if len(text) <= _STEP_WIDTH else text[: _STEP_WIDTH - 3] + "...")

    def replay(self) -> None:
        """The whole log, after a failure, unless it was shown as it came (`verbose`)."""
        if self.verbose:
            return
        self.progress(f"docker build log ({len(self.log)} lines):")
        for line in self.log:
            self.progress(line)


class DockerfileBackend:
    kind: ClassVar[BackendKind] = BackendKind.DOCKERFILE
    capabilities: ClassVar[Capabilities] = Capabilities(
        home=ImageHome.DAEMON,
        layout=False,
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
                "--oci-dir and --archive need --backend oci or docker; the dockerfile backend "
                "leaves its image in the daemon (docker save it from there)"
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
        with progress_step(f"base {base.name}"):
            return build_base(base, self.client, log=progress).image_id

    def cached_layers(self, plan: BuildPlan, progress: Progress) -> Mapping[str, PrefetchedLayer]:
        """None: its engine makes every layer from the Dockerfile (no registry layer cache)."""
        return {}

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Build the context; raises `BuildError` with the engine's message on failure."""
        options = BuildOptions(no_cache=self.no_cache, platform=plan.platform)
        summary = _Summary(progress, verbose=verbose())
        try:
            image_id = build_image(self.client, context, log=summary, options=options)
        except DockerBuildError as e:
            summary.replay()
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


BACKEND = DockerfileBackend
