"""The dependency graph inside an image: Requires-Dist between Python distributions of one
environment (markers evaluated for the image's own Python), and dpkg `Depends`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from imagekit.inventory.model import DebPackage, PythonDist

_PYTHON_DIR = re.compile(r"/python(?P<major>\d+)\.(?P<minor>\d+)/")
_MACHINE = {  # OCI architecture -> platform.machine()
    "amd64": "x86_64",
    "arm64": "aarch64",
    "arm": "armv7l",
    "386": "i686",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}

Edges = dict[int, tuple[int, ...]]  # index of a dependent -> indexes of what it needs


def marker_environment(
    site_packages: str, *, architecture: str, python_version: str | None
) -> dict[str, str]:
    """PEP 508 marker values of the CPython on Linux that owns `site_packages`.

    The version comes from the directory (`lib/python3.11/site-packages`), refined by the
    plan's full version when both agree; `python_version` alone is used when the path says none.
    """
    found = _PYTHON_DIR.search(f"/{site_packages}/")
    short = f"{found['major']}.{found['minor']}" if found else None
    full = python_version
    if short and not (full and (full == short or full.startswith(short + "."))):
        full = short
    full = full or "3"
    short = short or ".".join(full.split(".")[:2])
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": _MACHINE.get(architecture, architecture),
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": short,
        "sys_platform": "linux",
        "extra": "",  # which extras were asked for is not recorded: only unconditional needs
    }


def _needed(line: str, environment: dict[str, str]) -> str | None:
    """The canonical name a Requires-Dist line needs in this environment, if any."""
    try:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(environment):
            return None
    except (InvalidRequirement, InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return None  # metadata pip itself could not act on: no edge to draw
    return canonicalize_name(requirement.name)


def python_edges(
    dists: tuple[PythonDist, ...], *, architecture: str, python_version: str | None
) -> Edges:
    """Requires-Dist edges, only to distributions in the same site-packages directory."""
    by_env: dict[tuple[str, str], int] = {
        (d.site_packages, canonicalize_name(d.name)): i for i, d in enumerate(dists)
    }
    edges: Edges = {}
    for i, dist in enumerate(dists):
        env = marker_environment(
            dist.site_packages, architecture=architecture, python_version=python_version
        )
        targets = {
            by_env[key]
            for name in filter(None, (_needed(line, env) for line in dist.requires_dist))
            if (key := (dist.site_packages, name)) in by_env and by_env[key] != i
        }
        if targets:
            edges[i] = tuple(sorted(targets))
    return edges


def deb_edges(debs: Iterable[DebPackage]) -> Edges:
    """dpkg Depends edges to every installed package of that name (any architecture)."""
    listed = tuple(debs)
    by_name: dict[str, list[int]] = {}
    for i, deb in enumerate(listed):
        by_name.setdefault(deb.name, []).append(i)
    edges: Edges = {}
    for i, deb in enumerate(listed):
        targets = {j for name in deb.depends for j in by_name.get(name, ()) if j != i}
        if targets:
            edges[i] = tuple(sorted(targets))
    return edges
