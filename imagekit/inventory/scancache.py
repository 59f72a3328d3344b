"""What a layer was found to hold, kept by the digest of its blob, so a rebuilt image is read
for its new layers only.

A build reads its image back for the inventory, the SBOM and the licence policy. Its base and
dependency layers are usually the very blobs of the last build (the layer cache gave them back
byte for byte), and reading them again is most of the read-back: a torch image unpacks to
several GB. `ScanCache` stores each `LayerScan` the walk makes of an OCI blob under the blob's
digest, once the blob has been read whole and has matched that digest; a later walk of an
image holding the same blob takes the stored scan instead of reading the blob. The scan of a
blob depends on nothing else but the walker's rules, so the key also holds the rule that
chose the files kept for the readers, `SCAN_REVISION` and imagekit's version.

Only the build's own read-back uses it (`read_inventory(..., scans=...)`): `imagekit sbom` and
`inventory` of an image given to them read every byte, and so check every blob against its
digest. An entry that cannot be read back exactly (truncated, edited, another revision) is
ignored and replaced.

It also remembers other findings that are a pure function of some bytes and slow to make
(`remembered`/`remember`): a licence text's SPDX matches take 0.2 s each.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit import __version__
from imagekit.cache.lock import touch
from imagekit.cachedir import cache_root
from imagekit.fsio import write_bytes
from imagekit.inventory.layers import Entry, EntryKind, LayerScan

SCAN_REVISION = "1"  # bumped whenever the walk's rules change what a scan of a layer holds


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedScan:
    """A stored scan, and what reading its layer spent of the image's budget."""

    scan: LayerScan
    unpacked: int  # decompressed bytes of the layer
    kept: int  # bytes of the files kept for the readers


@dataclass(frozen=True, slots=True)
class ScanCache:
    """Layer scans by blob digest, under `root` (default `<cache root>/scans`)."""

    root: Path

    @classmethod
    def default(cls) -> ScanCache:
        return cls(cache_root() / "scans")

    def _file(self, name: str, inputs: bytes) -> Path:
        """Where what is found of `inputs` under `name` (a keep rule, a finding) is kept."""
        key = hashlib.sha256(f"{SCAN_REVISION}\0{__version__}\0{name}\0".encode() + inputs)
        return self.root / f"{key.hexdigest()}.json.gz"

    def _load(self, path: Path) -> Any:
        """The JSON value kept in `path`, marked used (for `imagekit cache prune`); None if it
        cannot be read."""
        try:
            value = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, zlib.error, ValueError):
            return None
        touch(path)
        return value

    def _store(self, path: Path, value: Any) -> None:
        """Keep `value` (JSON) in `path`; a failure to write costs a later build the work."""
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            write_bytes(path, gzip.compress(text, compresslevel=1, mtime=0))
        except OSError:
            pass

    def get(self, digest: str, rule: str) -> CachedScan | None:
        """The scan stored for the blob `digest` under the keep rule named `rule`, or None
        (none, or not readable exactly)."""
        data = self._load(self._file(rule, digest.encode()))
        try:
            if (data["revision"], data["blob"], data["rule"]) != (SCAN_REVISION, digest, rule):
                return None
            return _cached(data)
        except (ValueError, KeyError, TypeError, IndexError):
            return None

    def remembered(self, what: str, inputs: bytes) -> Any:
        """The JSON value stored for `what` of `inputs` (`remember`), or None."""
        return self._load(self._file(what, inputs))

    def remember(self, what: str, inputs: bytes, value: Any) -> None:
        """Store `value` (JSON) as what `what` of `inputs` is; a failure to write is ignored."""
        self._store(self._file(what, inputs), value)

    def put(self, digest: str, rule: str, scan: LayerScan, *, unpacked: int, kept: int) -> None:
        """Store the scan of the blob `digest` (read whole and matched) under the keep rule
        `rule`; it spent `unpacked` and `kept` bytes of its image's budget. A failure to write
        costs the next build a read, nothing else."""
        data = {
            "revision": SCAN_REVISION,
            "blob": digest,
            "rule": rule,
            "diff_id": scan.diff_id,
            "compression": scan.compression,
            "unpacked": unpacked,
            "kept": kept,
            "entries": [_entry_row(e) for e in scan.entries.values()],
            "whiteouts": list(scan.whiteouts),
            "opaque": list(scan.opaque),
            "hardlinks": [list(pair) for pair in scan.hardlinks],
            "warnings": list(scan.warnings),
        }
        self._store(self._file(rule, digest.encode()), data)


def _entry_row(entry: Entry) -> list[Any]:
    return [
        entry.path,
        entry.kind.value,
        entry.member,
        entry.size,
        None if entry.digest is None else entry.digest.hex(),
        entry.target,
        None if entry.data is None else base64.b64encode(entry.data).decode("ascii"),
    ]


def _entry(row: list[Any], layer: str) -> Entry:
    path, kind, member, size, digest, target, data = row
    if not isinstance(path, str) or not isinstance(member, str) or not isinstance(size, int):
        raise TypeError("a scan entry of the wrong shape")
    return Entry(
        path=path,
        kind=EntryKind(kind),
        layer=layer,
        member=member,
        size=size,
        digest=None if digest is None else bytes.fromhex(digest),
        target=None if target is None else str(target),
        data=None if data is None else base64.b64decode(data, validate=True),
    )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of strings was expected")
    return tuple(value)


def _cached(data: dict[str, Any]) -> CachedScan:
    diff_id = data["diff_id"]
    if not isinstance(diff_id, str):
        raise TypeError("a diff id was expected")
    entries = [_entry(row, diff_id) for row in data["entries"]]
    hardlinks = tuple((str(p), str(t)) for p, t in data["hardlinks"])
    scan = LayerScan(
        name="",
        diff_id=diff_id,
        compression=str(data["compression"]),
        entries={e.path: e for e in entries},
        whiteouts=_strings(data["whiteouts"]),
        opaque=_strings(data["opaque"]),
        hardlinks=hardlinks,
        warnings=_strings(data["warnings"]),
    )
    return CachedScan(scan=scan, unpacked=int(data["unpacked"]), kept=int(data["kept"]))
