"""The build-backend interface: every backend turns the same BuildPlan into an image."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from imagekit.errors import ImagekitError

if TYPE_CHECKING:
    from imagekit.plan.catalog import BaseImage
    from imagekit.plan.model import BuildPlan

Progress = Callable[[str], None]


class BackendKind(enum.StrEnum):
    DOCKER = "docker"
    OCI = "oci"  # daemonless: an OCI layout assembled in-process, no container is run
    BUILDAH = "buildah"  # daemonless: the Dockerfile built by buildah (vfs, chroot isolation)


class BuildError(ImagekitError):
    """The engine failed to build the image; no tag was left behind."""

    exit_code = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Outputs:
    """Where a daemonless build puts its image, besides the build record."""

    oci_dir: Path | None = None  # the OCI layout (default: <record folder>/oci)
    archive: Path | None = None  # also a docker-archive (`docker load` reads it)
    load: bool = False  # also load it into the Docker daemon at DOCKER_HOST


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    image_id: str  # the engine's image id; the manifest digest for the oci backend
    tag: str
    size: int  # bytes, as the engine reports it (oci: compressed layers and config)
    layers: tuple[str, ...]  # diff ids, base first


class BuildBackend(Protocol):
    kind: BackendKind

    def close(self) -> None:
        """Release the connection to the engine."""
        ...

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """Make the base available to this backend (building it if needed); its image id."""
        ...

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Build `context` (rendered from `plan`) and tag the result `tag`.

        Raises `BuildError`; a failed or interrupted build leaves no tag.
        """
        ...
