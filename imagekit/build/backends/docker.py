"""Build into a Docker engine: imagekit assembles the image, the daemon receives its layers.

The layers are the oci backend's (wheels streamed into deterministic layers, each cached by
its inputs), written to an OCI layout beside the build record; the daemon then receives only
the layers it lacks (`daemonload`). So the daemon's image is the oci backend's byte for byte:
the same inputs give the same image id (the config digest), a rebuild after an app edit sends
the daemon a few kilobytes, and nothing runs inside a container. The base is loaded once
under its local tag, where `docker run` and a hand-written `FROM` find it.

`--backend dockerfile` builds the rendered Dockerfile with the engine's own builder instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import ClassVar, Self

import docker

from imagekit.build.backends.interface import (
    BackendKind,
    BuildError,
    BuildResult,
    Capabilities,
    ImageHome,
    Outputs,
    Progress,
)
from imagekit.build.backends.oci import OciBackend, withdraw_layout
from imagekit.build.baseimage import reusable_id
from imagekit.build.context import PrefetchedLayer, source_date_epoch
from imagekit.build.oci import read_layout
from imagekit.build.oci.daemonload import load_image
from imagekit.build.oci.targets import check_loadable, daemon_version
from imagekit.daemon import DaemonUnavailableError, docker_client
from imagekit.image.errors import OciError
from imagekit.plan.catalog import BaseImage
from imagekit.plan.model import BuildPlan

# A ping that waits this long is a daemon that is not there, for choosing a backend.
_PROBE_TIMEOUT_S = 10


class DockerBackend:
    kind: ClassVar[BackendKind] = BackendKind.DOCKER
    # The assembler is the oci backend's, which threads share safely; the daemon takes
    # several loads at once. The image is the oci backend's, hence reproducible.
    capabilities: ClassVar[Capabilities] = Capabilities(
        home=ImageHome.DAEMON, parallel=True, build_tools=False, layer_cache=True, zstd=True
    )

    def __init__(self, client: docker.DockerClient, assembler: OciBackend) -> None:
        self.client = client
        self.assembler = assembler
        self.base_tag = ""

    @classmethod
    def open(cls, *, no_cache: bool, outputs: Outputs) -> Self:
        """Connected to the daemon at DOCKER_HOST. Raises `DaemonUnavailableError` without a
        daemon, `OciError` for a daemon that cannot load the layers' compression."""
        client = docker_client()
        try:
            check_loadable(
                outputs.compression,
                daemon_version(client),
                asked="--backend docker",
                instead="build with --backend oci and push the image",
            )
        except OciError:
            client.close()
            raise
        # The daemon is this backend's output: the assembler loads nothing itself.
        assembler = OciBackend(
            no_cache=no_cache, outputs=replace(outputs, load=False), compression=outputs.compression
        )
        return cls(client, assembler)

    @classmethod
    def unavailable(cls) -> str:
        """Empty when a daemon answers at DOCKER_HOST."""
        try:
            docker_client(timeout=_PROBE_TIMEOUT_S).close()
        except DaemonUnavailableError as e:
            return f"no Docker daemon at {e.host}"
        return ""

    def close(self) -> None:
        self.assembler.close()
        self.client.close()

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """The base's layout (built or reused), loaded into the daemon as `base.local_tag`
        unless that tag holds an image of the same recipe already; its manifest digest.
        Raises `OciError`."""
        digest = self.assembler.ensure_base(base, progress)
        built = self.assembler.base
        if built is None:  # ensure_base returns only once it is made
            raise BuildError(f"the base {base.name} was not made")
        self.base_tag = base.local_tag
        if not _holds_recipe(self.client, base):
            load_image(self.client, built.layout, built.image, base.local_tag,
                       mtime=source_date_epoch(), progress=progress)  # fmt: skip
        return digest

    def cached_layers(self, plan: BuildPlan, progress: Progress) -> Mapping[str, PrefetchedLayer]:
        """The Python layers the registry's layer cache holds (`--cache REF`)."""
        return self.assembler.cached_layers(plan, progress)

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Assemble the image as an OCI layout, then load what the daemon lacks and tag it.

        Raises `OciError` or `BuildError`; an interrupted build leaves no tag.
        """
        assembled = self.assembler.build(plan, context, tag, progress)
        layout = Path(assembled.location)
        image = read_layout(layout, tag)
        try:
            loaded = load_image(self.client, layout, image, tag, mtime=source_date_epoch(),
                                known=(self.base_tag,), progress=progress)  # fmt: skip
        except OciError as e:
            withdraw_layout(assembled)
            raise BuildError(str(e)) from e
        return BuildResult(
            image_id=loaded.image_id,
            tag=tag,
            size=loaded.size,
            layers=assembled.layers,
            home=ImageHome.DAEMON,
            location=loaded.image_id,
            layout=str(layout),
        )

    def withdraw(self, result: BuildResult) -> None:
        """Untag the image (the daemon removes it when no other tag holds it) and remove
        its layout."""
        self.client.images.remove(result.tag, noprune=False)
        if result.layout:
            withdraw_layout(replace(result, location=result.layout))


BACKEND = DockerBackend


def _holds_recipe(client: docker.DockerClient, base: BaseImage) -> bool:
    """Whether the daemon's `base.local_tag` is an image of this recipe (loaded here, or
    built by the dockerfile backend's base builder): it is left as it is."""
    return reusable_id(base, client) is not None
