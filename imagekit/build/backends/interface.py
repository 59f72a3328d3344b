"""The build-backend interface: every backend turns the same BuildPlan into an image, and says
what it can do (`Capabilities`) so that callers ask it instead of matching on its kind."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, Self

from imagekit.errors import ImagekitError
from imagekit.image.model import Compression

if TYPE_CHECKING:
    from imagekit.build.context import PrefetchedLayer
    from imagekit.build.fleet import FleetMember
    from imagekit.plan.catalog import BaseImage
    from imagekit.plan.model import BuildPlan

Progress = Callable[[str], None]


class BackendKind(enum.StrEnum):
    """The backends, in order of preference; each value names its module in `backends/`."""

    DOCKER = "docker"  # imagekit's layers (as oci builds them) loaded into a Docker daemon
    OCI = "oci"  # daemonless: an OCI layout assembled in-process, no container is run
    BUILDAH = "buildah"  # daemonless: the Dockerfile built by buildah (chroot isolation)
    DOCKERFILE = "dockerfile"  # the Dockerfile built by a Docker daemon's classic builder


class ImageHome(enum.StrEnum):
    """Where a built image lives, and so how it is read back and withdrawn."""

    DAEMON = "daemon"  # a Docker daemon's image store, under its tag
    LAYOUT = "oci-layout"  # an OCI image layout folder on disk


class BuildError(ImagekitError):
    """The engine failed to build the image; no tag was left behind."""

    exit_code = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What a backend can do, known before it is opened (the CLI and `build --all` ask)."""

    home: ImageHome
    parallel: bool  # several models may build at once (`build --all --jobs`)
    # Why two builds of the same inputs give different digests; empty when they do not.
    unreproducible: str = ""
    build_tools: bool = True  # it runs the plan's build tools (pip): the context holds them
    layer_cache: bool = False  # it shares layers through a registry (`build --cache REF`)
    zstd: bool = False  # it can write zstd layers (`build --compression zstd`)
    layout: bool = True  # it leaves an OCI layout of the image (`--oci-dir`, `--archive`)

    @property
    def reproducible(self) -> bool:
        return not self.unreproducible


@dataclass(frozen=True, slots=True, kw_only=True)
class Outputs:
    """Where a daemonless build puts its image, besides the build record."""

    oci_dir: Path | None = None  # the OCI layout (default: <record folder>/oci)
    archive: Path | None = None  # also a docker-archive (`docker load` reads it)
    load: bool = False  # also load it into the Docker daemon at DOCKER_HOST
    compression: Compression = Compression.GZIP  # of the layers the oci backend writes
    cache: str | None = None  # a registry repository sharing layers and bases (--cache REF)
    # This model in a `build --all` run: each distinct layer made once across its models.
    fleet: FleetMember | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """The image a backend built: where it lives and what it is."""

    image_id: str  # the engine's image id; the manifest digest for an OCI layout
    tag: str
    size: int  # bytes, as the engine reports it (a layout: compressed layers and config)
    layers: tuple[str, ...]  # diff ids, base first
    home: ImageHome
    location: str  # where it lives: the daemon's image id, or the layout's folder
    # An OCI layout holding the very same image (the same config digest), read back instead
    # of the daemon's copy; empty when the image lives only in `location`.
    layout: str = ""

    @property
    def readable(self) -> str:
        """What the read-back reads: the layout when there is one, else `location`."""
        return self.layout or self.location


class BuildBackend(Protocol):
    kind: ClassVar[BackendKind]
    capabilities: ClassVar[Capabilities]

    @classmethod
    def open(cls, *, no_cache: bool, outputs: Outputs) -> Self:
        """The backend, connected to its engine. Raises `DaemonUnavailableError` when its
        engine is not running, `BuildError` for outputs it cannot give."""
        ...

    @classmethod
    def unavailable(cls) -> str:
        """Why this backend cannot build on this machine now; empty when it can."""
        ...

    def close(self) -> None:
        """Release the connection to the engine."""
        ...

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """Make the base available to this backend (building it if needed); its image id."""
        ...

    def cached_layers(self, plan: BuildPlan, progress: Progress) -> Mapping[str, PrefetchedLayer]:
        """The Python layers of `plan` the backend holds already (from `outputs.cache`), by
        name: their wheels need not be fetched. Never raises for a cache problem."""
        ...

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Build `context` (rendered from `plan`) and tag the result `tag`.

        Raises `BuildError`; a failed or interrupted build leaves no tag.
        """
        ...

    def withdraw(self, result: BuildResult) -> None:
        """Take a built image back (a licence the policy denies): no tag or layout is left."""
        ...
