"""An OCI image layout directory: index.json -> manifest -> config and layer blobs.

The layout is read with `imagekit.image`'s model: manifests and the config through
`image.layout.read_blob` (bounded, checked against digest and size), nested indexes through
`image.index.image_manifests` (bounded in depth and count). Layers are streamed, never loaded
whole, and checked against their digest and size while they are read. The image format's
errors become `InventoryError`s naming the layout.
"""

from __future__ import annotations

import io
import platform
from dataclasses import dataclass
from pathlib import Path

from imagekit.image.config import ImageConfig
from imagekit.image.digest import split_digest
from imagekit.image.errors import OciError
from imagekit.image.index import image_manifests
from imagekit.image.layout import INDEX_FILE, blob_path, read_blob
from imagekit.image.model import Descriptor, Manifest, Platform, parse_json
from imagekit.image.streams import CHUNK, HashingReader
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import (
    LayerStream,
    LayerVisitor,
    SourceImage,
    SourceKind,
)
from imagekit.limits import shown


def host_platform() -> Platform:
    """This machine's platform in OCI terms (linux/amd64), the default to pick from an index."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return Platform(os="linux", architecture=arch)


@dataclass(frozen=True, slots=True, kw_only=True)
class OciLayoutSource:
    path: Path
    platform: str | None = None  # "linux/amd64"; default: the only image, else this host's
    ref_name: str | None = None  # org.opencontainers.image.ref.name, when index.json holds many

    @property
    def kind(self) -> SourceKind:
        return SourceKind.OCI_LAYOUT

    @property
    def reference(self) -> str:
        return str(self.path)

    def read(self, visit: LayerVisitor) -> SourceImage:
        """Visit the chosen manifest's layers in order and return its config.

        Raises `InventoryError` for a missing or corrupt blob, or no manifest for the platform.
        """
        try:
            return self._read(visit)
        except InventoryError:
            raise
        except OciError as e:
            raise InventoryError(str(e)) from e

    def _read(self, visit: LayerVisitor) -> SourceImage:
        index = parse_json(self._read_file(INDEX_FILE), f"{self.path}/{INDEX_FILE}")
        manifests = image_manifests(index, str(self.path), self._read_blob, ref_name=self.ref_name)
        chosen = self._choose(manifests)
        where = f"manifest {chosen.digest}"
        manifest = Manifest.from_dict(parse_json(self._read_blob(chosen), where), where)
        config = manifest.config
        config_where = f"config {config.digest}"
        typed = ImageConfig.from_dict(
            parse_json(self._read_blob(config), config_where), config_where
        )
        for layer in manifest.layers:
            self._visit_blob(layer, visit)
        return SourceImage(
            config=typed,
            digest=config.digest,
            manifest_digest=chosen.digest,
            annotations=dict(manifest.annotations) | dict(chosen.annotations),
        )

    def _read_file(self, name: str) -> bytes:
        try:
            return (self.path / name).read_bytes()
        except OSError as e:
            raise InventoryError(f"{self.path}/{name}: cannot be read ({e.strerror})") from e

    def _read_blob(self, desc: Descriptor) -> bytes:
        """A small JSON blob, checked against its digest and size."""
        return read_blob(self.path, desc)

    def _visit_blob(self, desc: Descriptor, visit: LayerVisitor) -> None:
        algorithm, hexdigest = split_digest(desc.digest)
        name = f"blobs/{algorithm}/{hexdigest}"
        path = blob_path(self.path, desc.digest)
        if not path.is_file():
            raise InventoryError(
                f"{self.path}: blob {desc.digest} is missing from blobs/{algorithm}/ "
                "(copy the whole layout again)"
            )
        with path.open("rb") as f:
            reader = HashingReader(f, algorithm)
            stream = io.BufferedReader(reader, CHUNK)
            layer = LayerStream(
                name=name, media_type=desc.media_type, stream=stream, digest=desc.digest
            )
            if not visit(layer):
                reader.verify(desc.digest, f"{self.path}: {name}", desc.size)

    def _platform_of(self, desc: Descriptor) -> Platform:
        if desc.platform:
            return desc.platform
        where = f"manifest {desc.digest}"
        manifest = Manifest.from_dict(parse_json(self._read_blob(desc), where), where)
        config = parse_json(self._read_blob(manifest.config), f"{where}: config")
        return Platform(
            os=str(config.get("os", "unknown")),
            architecture=str(config.get("architecture", "unknown")),
        )

    def _choose(self, manifests: list[Descriptor]) -> Descriptor:
        if not manifests:
            named = f" named '{shown(self.ref_name)}'" if self.ref_name else ""
            raise InventoryError(f"{self.path}: index.json lists no image manifest{named}")
        if self.platform is None and len(manifests) == 1:
            return manifests[0]
        wanted = Platform.parse(self.platform) if self.platform else host_platform()
        platforms = [(self._platform_of(m), m) for m in manifests]
        for offered, desc in platforms:
            if wanted.matches(offered):
                return desc
        listed = shown(", ".join(sorted({str(offered) for offered, _ in platforms})))
        raise InventoryError(
            f"{self.path}: no manifest for platform {wanted} (it has {listed}): pass --platform"
        )
