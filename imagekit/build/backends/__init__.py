"""Build backends behind one interface, registered by their kind.

A new backend is one module named after its kind (`BackendKind.DOCKER` ->
`backends/docker.py`) whose `BACKEND` is a class that meets `BuildBackend` (its kind, its
capabilities, how it opens, builds and withdraws), and one line in `BackendKind`, whose order
is the order of preference.
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


# Each module is imported when its backend is first asked for: this package (whose
# `BackendKind` the CLI offers as a choice) loads no engine, docker SDK or assembler by itself,
# and a build loads only its own backend.
@functools.cache
def _backend(kind: BackendKind) -> type[BuildBackend]:
    module = importlib.import_module(f"{__name__}.{kind.value}")
    backend: type[BuildBackend] = module.BACKEND
    return backend


def backends() -> Mapping[BackendKind, type[BuildBackend]]:
    """Every registered backend by its kind, in order of preference (each one imported)."""
    return MappingProxyType({kind: _backend(kind) for kind in BackendKind})


def get_backend(
    kind: BackendKind, *, no_cache: bool = False, outputs: Outputs | None = None
) -> BuildBackend:
    """The backend of `kind`, opened; raises `DaemonUnavailableError` when its engine is not
    running, `BuildError` for outputs it cannot give (an OCI layout or archive from the docker
    backend) or for the buildah backend's missing tools.
    """
    return _backend(kind).open(no_cache=no_cache, outputs=outputs or Outputs())


def capabilities(kind: BackendKind) -> Capabilities:
    """What the backend of `kind` can do, without opening it."""
    return _backend(kind).capabilities


def choose_backend(progress: Progress) -> BackendKind:
    """The first registered backend that can build on this machine (docker when a daemon
    answers, else the daemonless oci backend); says why the ones before it were passed over.

    Raises `BuildError` when none can (the oci backend always can).
    """
    passed: list[str] = []
    for kind in BackendKind:
        backend = _backend(kind)
        reason = backend.unavailable()
        if not reason:
            if passed:
                progress(f"{'; '.join(passed)}: building with --backend {backend.kind}")
            return backend.kind
        passed.append(reason)
    raise BuildError(f"no build backend can run on this machine: {'; '.join(passed)}")
