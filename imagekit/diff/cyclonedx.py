"""A CycloneDX JSON SBOM read back into a diff `Snapshot`.

Packages come from purls (`pkg:pypi/...`, `pkg:deb/...`), so SBOMs written by other tools (syft,
cyclonedx-py) diff too; imagekit's own `imagekit:` properties add the site-packages of each
Python package, the CUDA runtime, the driver floor and the direct dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from imagekit.diff.model import Artifact, DiffInputError, Ecosystem, InputKind, Package, Snapshot
from imagekit.errors import Location
from imagekit.vulns.targets import from_cyclonedx as scan_target_of_sbom

_RUNTIME_WHEEL = re.compile(r"^nvidia-cuda-runtime-cu\d+$")
_DIRECT = frozenset({"critical", "optional"})


def snapshot_from_cyclonedx(data: dict[str, Any], path: Path, reference: str) -> Snapshot:
    """The snapshot of a parsed CycloneDX JSON document; raises `DiffInputError`."""
    components = list(_components(data.get("components", []), path, "components"))
    packages = [p for c in components if (p := _package(c)) is not None]
    return Snapshot(
        reference=reference,
        kind=InputKind.SBOM,
        packages=tuple(packages),
        cuda=_cuda(components, packages),
        min_driver=next(
            (_props(c).get("imagekit:driver:min-version") for c in components if _is_driver(c)),
            None,
        ),
        artifacts=tuple(_artifact(c) for c in components if c.get("type") == _MODEL),
        direct=frozenset(
            canonicalize_name(str(c.get("name", "")))
            for c in components
            if _props(c).get("imagekit:dependency-class") in _DIRECT
        ),
        scan_target=scan_target_of_sbom(path),
    )


_MODEL = "machine-learning-model"


def _components(value: object, path: Path, key: str) -> Iterator[dict[str, Any]]:
    """Every component, nested ones included; raises `DiffInputError` for a wrong shape."""
    if not isinstance(value, list):
        raise DiffInputError(Location(file=path, key=key), "must be an array", "fix the SBOM")
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise DiffInputError(
                Location(file=path, key=where), "must be an object", "fix the SBOM"
            )
        yield item
        yield from _components(item.get("components", []), path, f"{where}.components")


def _props(component: dict[str, Any]) -> dict[str, str]:
    props = component.get("properties")
    if not isinstance(props, list):
        return {}
    return {
        str(p["name"]): str(p.get("value", ""))
        for p in props
        if isinstance(p, dict) and "name" in p
    }


def _purl(component: dict[str, Any]) -> PackageURL | None:
    text = component.get("purl")
    if not isinstance(text, str):
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None  # a purl this library cannot parse is not one we compare


def _package(component: dict[str, Any]) -> Package | None:
    purl = _purl(component)
    if purl is None or purl.version is None:
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    name: str = purl.name
    if purl.type == "pypi":
        ecosystem, name = Ecosystem.PYTHON, canonicalize_name(name)
        environment = _props(component).get("imagekit:python:site-packages", "")
    elif purl.type == "deb":
        ecosystem = Ecosystem.DEB
        environment = str(qualifiers.get("arch", ""))
    else:
        return None
    return Package(
        ecosystem=ecosystem,
        name=name,
        environment=environment,
        version=purl.version,
        licences=_licences(component),
        where=str(component.get("purl")),
    )


def _licences(component: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    entries = component.get("licenses")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            found.append(entry["expression"])
        elif isinstance(entry.get("license"), dict):
            licence = entry["license"]
            value = licence.get("id") or licence.get("name")
            if isinstance(value, str):
                found.append(value)
    return tuple(sorted(set(found)))


def _artifact(component: dict[str, Any]) -> Artifact:
    hashes = component.get("hashes")
    sha = next(
        (
            str(h.get("content"))
            for h in (hashes if isinstance(hashes, list) else ())
            if isinstance(h, dict) and h.get("alg") == "SHA-256"
        ),
        None,
    )
    return Artifact(
        name=str(component.get("name", "")),
        sha256=sha,
        path=_props(component).get("imagekit:artifact:path", ""),
    )


def _is_driver(component: dict[str, Any]) -> bool:
    return component.get("type") == "device-driver" and component.get("name") == "nvidia-driver"


def _cuda(components: list[dict[str, Any]], packages: list[Package]) -> str | None:
    """The newest CUDA runtime the SBOM names: imagekit's cuda-runtime, else the runtime wheel."""
    versions = [
        _props(c)["imagekit:cuda:version"]
        for c in components
        if c.get("name") == "cuda-runtime" and "imagekit:cuda:version" in _props(c)
    ]
    for package in packages:
        if package.ecosystem is Ecosystem.PYTHON and _RUNTIME_WHEEL.match(package.name):
            versions.append(".".join(package.version.split(".")[:2]))
    return max(versions, key=_version_key) if versions else None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))
