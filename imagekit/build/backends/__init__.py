"""Build backends behind one interface, registered by their kind.

A new backend is one module with a class that meets `BuildBackend` (its kind, its
capabilities, how it opens, builds and withdraws) and one line in `_REGISTERED`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from types import MappingProxyType

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

__all__ = [
    "BackendKind",
    "BuildBackend",
    "BuildError",
    "BuildResult",
    "Capabilities",
    "ImageHome",
    "Outputs",
    "Progress",
    "backends",
    "capabilities",
    "choose_backend",
    "get_backend",
]

# In order of preference: `choose_backend` takes the first one that can build here. Each is
# `module:class`, imported when first asked for: this package (whose `BackendKind` the CLI
# offers as a choice) loads no engine, docker SDK or assembler by itself.
_REGISTERED = (
    "imagekit.build.backends.docker:DockerBackend",
    "imagekit.build.backends.oci:OciBackend",
    "imagekit.build.backends.buildah:BuildahBackend",
    "imagekit.build.backends.dockerfile:DockerfileBackend",
)


@functools.cache
def _ordered() -> tuple[type[BuildBackend], ...]:
    found = []
    for entry in _REGISTERED:
        module, name = entry.split(":")
        backend: type[BuildBackend] = getattr(importlib.import_module(module), name)
        found.append(backend)
    return tuple(found)


def backends() -> Mapping[BackendKind, type[BuildBackend]]:
    """Every registered backend by its kind, in order of preference."""
    return MappingProxyType({backend.kind: backend for backend in _ordered()})


def get_backend(
    kind: BackendKind, *, no_cache: bool = False, outputs: Outputs | None = None
) -> BuildBackend:
    """The backend of `kind`, opened; raises `DaemonUnavailableError` when its engine is not
    running, `BuildError` for outputs it cannot give (an OCI layout or archive from the docker
    backend) or for the buildah backend's missing tools.
    """
    return backends()[kind].open(no_cache=no_cache, outputs=outputs or Outputs())


def capabilities(kind: BackendKind) -> Capabilities:
    """What the backend of `kind` can do, without opening it."""
    return backends()[kind].capabilities


def choose_backend(progress: Progress) -> BackendKind:
    """The first registered backend that can build on this machine (docker when a daemon
    answers, else the daemonless oci backend); says why the ones before it were passed over.

    Raises `BuildError` when none can (the oci backend always can).
    """
    passed: list[str] = []
    for backend in _ordered():
        reason = backend.unavailable()
        if not reason:
            if passed:
                progress(f"{'; '.join(passed)}: building with --backend {backend.kind}")
            return backend.kind
        passed.append(reason)
    raise BuildError(f"no build backend can run on this machine: {'; '.join(passed)}")
