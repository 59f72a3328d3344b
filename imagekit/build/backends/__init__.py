"""Build backends behind one interface, registered by their kind.

A new backend is one module with a class that meets `BuildBackend` (its kind, its
capabilities, how it opens, builds and withdraws) and one line in `_REGISTERED`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from imagekit.build.backends.buildah import BuildahBackend
from imagekit.build.backends.docker import DockerBackend
from imagekit.build.backends.interface import (
    BackendKind,
    BuildBackend,
    BuildError,
    BuildResult,
    Capabilities,
    ImageHome,
    Outputs,
    Progress,
)
from imagekit.build.backends.oci import OciBackend

__all__ = [
    "BACKENDS",
    "BackendKind",
    "BuildBackend",
    "BuildError",
    "BuildResult",
    "Capabilities",
    "ImageHome",
    "Outputs",
    "Progress",
    "capabilities",
    "choose_backend",
    "get_backend",
]

# In order of preference: `choose_backend` takes the first one that can build here.
_REGISTERED: tuple[type[BuildBackend], ...] = (
    DockerBackend,
    OciBackend,
    BuildahBackend,
)
BACKENDS: Mapping[BackendKind, type[BuildBackend]] = MappingProxyType(
    {backend.kind: backend for backend in _REGISTERED}
)


def get_backend(
    kind: BackendKind, *, no_cache: bool = False, outputs: Outputs | None = None
) -> BuildBackend:
    """The backend of `kind`, opened; raises `DaemonUnavailableError` when its engine is not
    running, `BuildError` for outputs it cannot give (an OCI layout or archive from the docker
    backend) or for the buildah backend's missing tools.
    """
    return BACKENDS[kind].open(no_cache=no_cache, outputs=outputs or Outputs())


def capabilities(kind: BackendKind) -> Capabilities:
    """What the backend of `kind` can do, without opening it."""
    return BACKENDS[kind].capabilities


def choose_backend(progress: Progress) -> BackendKind:
    """The first registered backend that can build on this machine (docker when a daemon
    answers, else the daemonless oci backend); says why the ones before it were passed over.

    Raises `BuildError` when none can (the oci backend always can).
    """
    passed: list[str] = []
    for backend in _REGISTERED:
        reason = backend.unavailable()
        if not reason:
            if passed:
                progress(f"{'; '.join(passed)}: building with --backend {backend.kind}")
            return backend.kind
        passed.append(reason)
    raise BuildError(f"no build backend can run on this machine: {'; '.join(passed)}")
