"""The plan an image carries (`PLAN_PATH_IN_IMAGE`), read back for the reports.

An image's plan may come from another imagekit version or from anyone's hands, so it is read
leniently: an entry of the wrong shape is dropped with a warning, never a traceback, and what
is left is typed. The inventory, the SBOM and the diff read these fields, none of them the JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from imagekit.plan.model import PLAN_PATH_IN_IMAGE, PlannedArtifact
from imagekit.project.lockfile.interface import PinnedPackage
from imagekit.project.spec import DataRef


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlan:
    """What the reports use of an image's plan, and the document as stored."""

    document: dict[str, Any]  # as read: the inventory's JSON keeps it whole
    packages: tuple[PinnedPackage, ...]  # every Python layer's, in layer order
    critical: tuple[str, ...]
    optional: tuple[str, ...]
    python_version: str | None  # the base's interpreter, X.Y.Z
    cuda_version: str | None
    min_driver: str | None
    artifacts: tuple[PlannedArtifact, ...]
    datasets: tuple[DataRef, ...]
    sources: tuple[DataRef, ...]
    warnings: tuple[str, ...]  # each entry dropped, and why


def read_stored_plan(document: dict[str, Any]) -> StoredPlan:
    """The typed view of a plan document; entries of the wrong shape become warnings."""
    warnings: list[str] = []
    base, cuda = _object(document.get("base")), _object(document.get("cuda"))
    return StoredPlan(
        document=document,
        packages=tuple(_packages(document)),
        critical=_names(document.get("critical")),
        optional=_names(document.get("optional")),
        python_version=_text(base, "python_version"),
        cuda_version=_text(cuda, "version"),
        min_driver=_text(cuda, "min_driver"),
        artifacts=tuple(_artifacts(_items(document, "artifacts", warnings), warnings)),
        datasets=tuple(_data(x) for x in _items(document, "datasets", warnings)),
        sources=tuple(_data(x) for x in _items(document, "sources", warnings)),
        warnings=tuple(warnings),
    )


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return str(value) if value is not None else None


def _names(value: object) -> tuple[str, ...]:
    return tuple(str(name) for name in value) if isinstance(value, list) else ()


def _items(document: dict[str, Any], key: str, warnings: list[str]) -> list[dict[str, Any]]:
    items = document.get(key) or []
    good = [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []
    if not isinstance(items, list) or len(good) != len(items):
        warnings.append(
            f"{PLAN_PATH_IN_IMAGE}: {key} is not a list of objects; bad entries ignored"
        )
    return good


def _packages(document: dict[str, Any]) -> Iterator[PinnedPackage]:
    layers = document.get("layers")
    for layer in layers if isinstance(layers, list) else []:
        packages = _object(layer).get("packages")
        for pkg in packages if isinstance(packages, list) else []:
            item = _object(pkg)
            name, version, hashes = _text(item, "name"), _text(item, "version"), item.get("sha256")
            try:
                pinned = Version(version) if name and version else None
            except InvalidVersion:
                pinned = None
            if name and pinned is not None:
                sha256 = tuple(str(h) for h in hashes) if isinstance(hashes, list) else ()
                yield PinnedPackage(name=canonicalize_name(name), version=pinned, sha256=sha256)


def _artifacts(items: list[dict[str, Any]], warnings: list[str]) -> Iterator[PlannedArtifact]:
    for i, item in enumerate(items):
        dest, recorded = _text(item, "dest"), _text(item, "sha256")
        if not dest or not recorded:
            warnings.append(f"{PLAN_PATH_IN_IMAGE}: artifacts[{i}] has no dest or sha256; ignored")
            continue
        card = item.get("card")
        yield PlannedArtifact(
            name=_text(item, "name") or dest,
            path=_text(item, "path") or "",
            dest=dest,
            sha256=recorded,
            card=tuple(sorted((str(k), str(v)) for k, v in card.items()))
            if isinstance(card, dict)
            else (),
        )


def _data(item: dict[str, Any]) -> DataRef:
    return DataRef(
        name=_text(item, "name") or "",
        uri=_text(item, "uri") or "",
        version=_text(item, "version") or "",
        sha256=_text(item, "sha256"),
        schema_hash=_text(item, "schema_hash"),
        revision=_text(item, "revision"),
    )
