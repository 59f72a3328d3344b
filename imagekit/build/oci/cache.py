"""The layer cache: a layer built once is reused while its inputs are unchanged.

A layer's key is the sha256 of everything that decides its bytes (the builder revision, the
epoch, the compression, the plan layer and the exact wheels or files it holds); its blob lives
in `<cache>/blobs/sha256/` and `<cache>/layers/<key>.json` names it. A build links the blob
into its layout. An entry whose blob is gone or has another size is ignored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from imagekit.fsio import write_text
from imagekit.image.compress import GZIP_LEVEL, ZSTD_LEVEL, ZSTD_MODE
from imagekit.image.digest import parse_digest
from imagekit.image.model import Descriptor, LayerBlob, canonical_json

# Bumped whenever the OCI assembler changes what a layer holds, so older layers are not reused.
BUILDER_REVISION = "1"


def default_cache_root() -> Path:
    """`<user cache dir>/imagekit`: bases/, oci/ (layers), facts/."""
    return Path(platformdirs.user_cache_dir("imagekit"))


def layer_key(inputs: dict[str, Any]) -> str:
    levels = {"gzip": GZIP_LEVEL, "zstd": ZSTD_LEVEL, "zstd-mode": ZSTD_MODE}
    key = {"builder": BUILDER_REVISION, "levels": levels, **inputs}
    return hashlib.sha256(canonical_json(key)).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerCache:
    root: Path
    enabled: bool = True  # False: build every layer again (--no-cache), still store them

    @property
    def blobs(self) -> Path:
        return self.root / "blobs" / "sha256"

    def get(self, key: str) -> LayerBlob | None:
        if not self.enabled:
            return None
        try:
            d = json.loads((self.root / "layers" / f"{key}.json").read_text(encoding="utf-8"))
            blob = LayerBlob(
                descriptor=Descriptor.from_dict(d["descriptor"], key),
                diff_id=parse_digest(d["diff_id"], key),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        path = self.blobs / blob.descriptor.digest.removeprefix("sha256:")
        if not path.is_file() or path.stat().st_size != blob.descriptor.size:
            return None
        return blob

    def put(self, key: str, blob: LayerBlob) -> None:
        folder = self.root / "layers"
        folder.mkdir(parents=True, exist_ok=True)
        record = {"descriptor": blob.descriptor.to_dict(), "diff_id": blob.diff_id}
        write_text(folder / f"{key}.json", json.dumps(record, sort_keys=True))
