"""The layer cache: a layer built once is reused while its inputs are unchanged.

A layer's key is the sha256 of everything that decides its bytes (the builder revision, the
epoch, the compression, the plan layer and the exact wheels or files it holds); its blob lives
in `<cache>/blobs/sha256/` and `<cache>/layers/<key>.json` names it. A build links the blob
into its layout. An entry whose blob is gone or has another size is ignored.

A build holds the blob's lock (`imagekit.cache.lock`, named by the blob's digest) shared from
reading the key until the blob is linked into its layout, and from naming a new blob until it
is linked, so `imagekit cache prune` never removes a blob between the two; reading a key marks it
used (its mtime), which is the recency prune goes by.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.cache.lock import using
from imagekit.cachedir import cache_root
from imagekit.fsio import write_text
from imagekit.image.compress import GZIP_ENGINE, GZIP_LEVEL, ZSTD_LEVEL, ZSTD_MODE
from imagekit.image.digest import parse_digest
from imagekit.image.layout import link_blob
from imagekit.image.model import Descriptor, LayerBlob, canonical_json

# Bumped whenever the OCI assembler changes what a layer holds, so older layers are not reused.
BUILDER_REVISION = "1"


def default_cache_root() -> Path:
    """`<user cache dir>/imagekit`: bases/, oci/ (layers), facts/ (`cachedir.cache_root`)."""
    return cache_root()


def layer_key(inputs: dict[str, Any]) -> str:
    levels = {"gzip": GZIP_LEVEL, "gzip-engine": GZIP_ENGINE, "zstd": ZSTD_LEVEL,
              "zstd-mode": ZSTD_MODE}  # fmt: skip
    key = {"builder": BUILDER_REVISION, "levels": levels, **inputs}
    return hashlib.sha256(canonical_json(key)).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerCache:
    root: Path
    enabled: bool = True  # False: build every layer again (--no-cache), still store them

    @property
    def blobs(self) -> Path:
        return self.root / "blobs" / "sha256"

    def _record(self, key: str) -> Path:
        return self.root / "layers" / f"{key}.json"

    def reuse(self, key: str, layout: Path) -> LayerBlob | None:
        """The cached layer of `key`, its blob linked into `layout` and the key marked used;
        None on a miss (also when a prune removed it meanwhile). Raises `OSError`."""
        blob = self.get(key)
        if blob is None:
            return None
        digest = blob.descriptor.digest
        with using(self.root, digest.removeprefix("sha256:"), self._record(key)):
            if self.get(key) != blob:
                return None
            link_blob(self.blobs / digest.removeprefix("sha256:"), layout, digest)
        return blob

    def link(self, key: str, blob: LayerBlob, layout: Path) -> bool:
        """Link the blob of `key` this run wrote into the cache into `layout` (also with the cache
        disabled: `--no-cache` reuses nothing from before the run, not its own layers); False
        when it is gone (a prune removed it). Raises `OSError`."""
        digest = blob.descriptor.digest
        hexdigest = digest.removeprefix("sha256:")
        with using(self.root, hexdigest, self._record(key)):
            path = self.blobs / hexdigest
            if not path.is_file() or path.stat().st_size != blob.descriptor.size:
                return False
            link_blob(path, layout, digest)
        return True

    def keep(self, key: str, blob: LayerBlob, layout: Path) -> bool:
        """Name the blob just written into `blobs` by `key` and link it into `layout`; False
        when a prune removed it before it was named (write it again). Raises `OSError`."""
        digest = blob.descriptor.digest
        hexdigest = digest.removeprefix("sha256:")
        with using(self.root, hexdigest, self._record(key)):
            if not (self.blobs / hexdigest).is_file():
                return False
            self.put(key, blob)
            link_blob(self.blobs / hexdigest, layout, digest)
        return True

    def get(self, key: str) -> LayerBlob | None:
        if not self.enabled:
            return None
        try:
            d = json.loads(self._record(key).read_text(encoding="utf-8"))
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
