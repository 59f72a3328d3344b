"""The Inventory: what an image actually contains, read from the image's own files.

SBOM, licences, vulnerabilities, diff and compatibility all read this one value; none of them
re-reads an image. Every item says where in the image it was found.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from imagekit.inventory.errors import InventoryError
from imagekit.limits import shown
from imagekit.plan.stored import StoredPlan, read_stored_plan

INVENTORY_SCHEMA = 1


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _get(d: dict[str, Any], key: str, kind: type, where: str, *, optional: bool = False) -> Any:
    """`d[key]`, checked to be of `kind` (never a bool for an int); raises `InventoryError`."""
    value = d.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InventoryError(f"inventory JSON: {_at(where, key)}: expected {kind.__name__}")
    return value


def _strs(d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    items = _get(d, key, list, where)
    if not all(isinstance(x, str) for x in items):
        raise InventoryError(f"inventory JSON: {_at(where, key)}: expected a list of strings")
    return tuple(items)


def _str_map(d: dict[str, Any], key: str, where: str) -> dict[str, str]:
    items = _get(d, key, dict, where)
    if not all(isinstance(v, str) for v in items.values()):
        raise InventoryError(f"inventory JSON: {_at(where, key)}: expected string values")
    return dict(sorted(items.items()))


def _objects(d: dict[str, Any], key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    items = _get(d, key, list, where)
    if not all(isinstance(x, dict) for x in items):
        raise InventoryError(f"inventory JSON: {_at(where, key)}: expected a list of objects")
    return [(f"{_at(where, key)}[{i}]", x) for i, x in enumerate(items)]


@dataclass(frozen=True, slots=True, kw_only=True)
class OsRelease:
    """/etc/os-release (or /usr/lib/os-release) of the image."""

    id: str  # "debian"
    version_id: str  # "12"
    codename: str  # "bookworm"
    pretty_name: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version_id": self.version_id,
            "codename": self.codename,
            "pretty_name": self.pretty_name,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "os_release") -> OsRelease:
        return cls(
            **{k: _get(d, k, str, where) for k in ("id", "version_id", "codename", "pretty_name")}
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DebPackage:
    """One installed package from var/lib/dpkg/status (Status: install ok installed)."""

    name: str
    version: str
    architecture: str
    source_name: str  # the source package (Source:, or the binary name)
    source_version: str
    depends: tuple[str, ...]  # names only, alternatives flattened, sorted
    licenses: tuple[str, ...]  # SPDX ids/expressions where known, else the copyright's names
    copyright_file: str | None  # path in the image it was read from
    # Where `licenses` were matched from a free-text copyright file: the share of the text the
    # matched licences account for (0 to 1). None where the file declares them (DEP-5).
    license_confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "architecture": self.architecture,
            "source_name": self.source_name,
            "source_version": self.source_version,
            "depends": list(self.depends),
            "licenses": list(self.licenses),
            "copyright_file": self.copyright_file,
            "license_confidence": self.license_confidence,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "debs[]") -> DebPackage:
        text = ("name", "version", "architecture", "source_name", "source_version")
        return cls(
            **{k: _get(d, k, str, where) for k in text},
            depends=_strs(d, "depends", where),
            licenses=_strs(d, "licenses", where),
            copyright_file=_get(d, "copyright_file", str, where, optional=True),
            license_confidence=_get(d, "license_confidence", float, where, optional=True),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FileHash:
    path: str  # as RECORD lists it, relative to site-packages
    sha256: str  # hex

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "record[]") -> FileHash:
        return cls(path=_get(d, "path", str, where), sha256=_get(d, "sha256", str, where))


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonDist:
    """One installed distribution, from its *.dist-info (or *.egg-info) directory."""

    name: str  # canonical (PEP 503)
    raw_name: str  # as METADATA spells it
    version: str
    site_packages: str  # the directory that holds the .dist-info: one environment
    metadata_path: str  # the .dist-info / .egg-info directory
    license_expression: str | None  # PEP 639 License-Expression, canonicalised
    license_texts: tuple[str, ...]  # License: field (first line) and licence classifiers
    requires_dist: tuple[str, ...]  # Requires-Dist as written
    record: tuple[FileHash, ...]  # RECORD entries with a sha256
    direct_url: dict[str, Any] | None  # direct_url.json, if any
    installer: str | None  # INSTALLER

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "raw_name": self.raw_name,
            "version": self.version,
            "site_packages": self.site_packages,
            "metadata_path": self.metadata_path,
            "license_expression": self.license_expression,
            "license_texts": list(self.license_texts),
            "requires_dist": list(self.requires_dist),
            "record": [f.to_dict() for f in self.record],
            "direct_url": self.direct_url,
            "installer": self.installer,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "python[]") -> PythonDist:
        text = ("name", "raw_name", "version", "site_packages", "metadata_path")
        return cls(
            **{k: _get(d, k, str, where) for k in text},
            license_expression=_get(d, "license_expression", str, where, optional=True),
            license_texts=_strs(d, "license_texts", where),
            requires_dist=_strs(d, "requires_dist", where),
            record=tuple(FileHash.from_dict(x, w) for w, x in _objects(d, "record", where)),
            direct_url=_get(d, "direct_url", dict, where, optional=True),
            installer=_get(d, "installer", str, where, optional=True),
        )


class CudaSourceKind(enum.StrEnum):
    WHEEL = "wheel"  # an nvidia-*-cuNN wheel
    TOOLKIT = "toolkit"  # usr/local/cuda*/version.json
    LIBRARY = "library"  # a libcudart.so.* / libcudnn*.so.* file
    FRAMEWORK = "framework"  # a framework built for a CUDA version (torch 2.5.1+cu124)


@dataclass(frozen=True, slots=True, kw_only=True)
class CudaComponent:
    """A piece of CUDA in the image and the CUDA version it belongs to."""

    kind: CudaSourceKind
    name: str  # "cudart", "cudnn", "cublas", "torch", the wheel name...
    version: str  # the component's own version
    cuda_version: str  # major.minor of CUDA it belongs to ("12.4"); major only if that is all
    path: str  # where in the image (file, or the dist-info directory)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "version": self.version,
            "cuda_version": self.cuda_version,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "cuda[]") -> CudaComponent:
        kind = _get(d, "kind", str, where)
        if kind not in set(CudaSourceKind):
            what = f"{_at(where, 'kind')}: unknown kind '{shown(kind, 40)}'"
            raise InventoryError(f"inventory JSON: {what}")
        return cls(
            kind=CudaSourceKind(kind),
            **{k: _get(d, k, str, where) for k in ("name", "version", "cuda_version", "path")},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelArtifact:
    """A model file the plan recorded, re-hashed from the image's own bytes."""

    name: str
    path: str  # in the image
    recorded_sha256: str
    actual_sha256: str | None  # None: the file is missing from the image
    size: int | None
    card: dict[str, str] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.actual_sha256 == self.recorded_sha256

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "recorded_sha256": self.recorded_sha256,
            "actual_sha256": self.actual_sha256,
            "size": self.size,
            "card": dict(sorted(self.card.items())),
            "verified": self.verified,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "artifacts[]") -> ModelArtifact:
        return cls(
            **{k: _get(d, k, str, where) for k in ("name", "path", "recorded_sha256")},
            actual_sha256=_get(d, "actual_sha256", str, where, optional=True),
            size=_get(d, "size", int, where, optional=True),
            card=_str_map(d, "card", where),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSource:
    """A dataset or upstream source the plan recorded (not a file in the image)."""

    kind: str  # "dataset" | "source"
    name: str
    uri: str
    version: str
    sha256: str | None = None
    schema_hash: str | None = None
    revision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "uri": self.uri,
            "version": self.version,
            "sha256": self.sha256,
            "schema_hash": self.schema_hash,
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "data[]") -> DataSource:
        return cls(
            **{k: _get(d, k, str, where) for k in ("kind", "name", "uri", "version")},
            **{
                k: _get(d, k, str, where, optional=True)
                for k in ("sha256", "schema_hash", "revision")
            },
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageInfo:
    """Identity of the image the inventory was read from."""

    reference: str  # what the user named: a tag, a path, a registry reference
    # The digest the image is identified by; `digest_kind` says which (the rule is in
    # imagekit.inventory.interface.SourceImage.identity): "manifest" (OCI layout, registry,
    # an archive with an index.json) or "image-id" (the config digest: an older archive).
    digest: str | None
    config_digest: str | None
    architecture: str
    os: str
    labels: dict[str, str]
    layers: tuple[str, ...]  # layer digests, base first
    base_name: str | None  # from labels
    base_digest: str | None
    source_kind: str = ""  # how it was read: "daemon", "docker-archive", "oci-layout", "rootfs"
    digest_kind: str = ""  # "manifest", "image-id", or "" when there is no digest
    # The image's own name and tag, whatever form it was read from (the rule is in
    # imagekit.inventory._identity): its title, else the repository it is tagged as, else
    # the file or folder's name. "" in inventories written before it was recorded.
    name: str = ""
    tag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tag": self.tag,
            "reference": self.reference,
            "source_kind": self.source_kind,
            "digest": self.digest,
            "digest_kind": self.digest_kind,
            "config_digest": self.config_digest,
            "architecture": self.architecture,
            "os": self.os,
            "labels": dict(sorted(self.labels.items())),
            "layers": list(self.layers),
            "base_name": self.base_name,
            "base_digest": self.base_digest,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "image") -> ImageInfo:
        optional = ("digest", "config_digest", "base_name", "base_digest")
        return cls(
            **{k: _get(d, k, str, where) for k in ("reference", "architecture", "os")},
            **{k: _get(d, k, str, where, optional=True) for k in optional},
            labels=_str_map(d, "labels", where),
            layers=_strs(d, "layers", where),
            source_kind=_get(d, "source_kind", str, where, optional=True) or "",
            digest_kind=_get(d, "digest_kind", str, where, optional=True) or "",
            name=_get(d, "name", str, where, optional=True) or "",
            tag=_get(d, "tag", str, where, optional=True),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    image: ImageInfo
    os_release: OsRelease | None
    debs: tuple[DebPackage, ...]
    python: tuple[PythonDist, ...]
    cuda: tuple[CudaComponent, ...]
    artifacts: tuple[ModelArtifact, ...]
    data: tuple[DataSource, ...]
    plan: StoredPlan | None  # the BuildPlan imagekit stored in the image, if any
    warnings: tuple[str, ...] = ()  # what could not be read, with the path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, every list in a stable order."""
        return {
            "schema": INVENTORY_SCHEMA,
            "image": self.image.to_dict(),
            "os_release": self.os_release.to_dict() if self.os_release else None,
            "debs": [d.to_dict() for d in sorted(self.debs, key=_deb_key)],
            "python": [p.to_dict() for p in sorted(self.python, key=_dist_key)],
            "cuda": [c.to_dict() for c in sorted(self.cuda, key=_cuda_key)],
            "artifacts": [a.to_dict() for a in sorted(self.artifacts, key=lambda a: a.path)],
            "data": [x.to_dict() for x in sorted(self.data, key=_data_key)],
            "plan": self.plan.document if self.plan else None,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Inventory:
        """Read `to_dict`'s form back; raises `InventoryError` naming the bad key."""
        if d.get("schema") != INVENTORY_SCHEMA:
            schema = shown(d.get("schema"), 40)
            raise InventoryError(f"inventory JSON: schema {schema} is not supported")
        release = _get(d, "os_release", dict, "", optional=True)
        return cls(
            image=ImageInfo.from_dict(_get(d, "image", dict, "")),
            os_release=OsRelease.from_dict(release) if release is not None else None,
            debs=tuple(DebPackage.from_dict(x, w) for w, x in _objects(d, "debs", "")),
            python=tuple(PythonDist.from_dict(x, w) for w, x in _objects(d, "python", "")),
            cuda=tuple(CudaComponent.from_dict(x, w) for w, x in _objects(d, "cuda", "")),
            artifacts=tuple(ModelArtifact.from_dict(x, w) for w, x in _objects(d, "artifacts", "")),
            data=tuple(DataSource.from_dict(x, w) for w, x in _objects(d, "data", "")),
            plan=_stored_plan(_get(d, "plan", dict, "", optional=True)),
            warnings=_strs(d, "warnings", ""),
        )

    @property
    def min_driver(self) -> str | None:
        planned = self.plan.min_driver if self.plan else None
        return planned or self.image.labels.get("io.imagekit.cuda.min-driver") or None


def _stored_plan(document: dict[str, Any] | None) -> StoredPlan | None:
    return read_stored_plan(document) if document is not None else None


def _deb_key(d: DebPackage) -> tuple[str, str, str]:
    return (d.name, d.architecture, d.version)


def _dist_key(d: PythonDist) -> tuple[str, str, str]:
    return (d.site_packages, d.name, d.metadata_path)


def _cuda_key(c: CudaComponent) -> tuple[str, str, str]:
    return (c.kind.value, c.name, c.path)


def _data_key(d: DataSource) -> tuple[str, str, str]:
    return (d.kind, d.name, d.version)
