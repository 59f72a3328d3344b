"""A process that uses the caches the way builds do, or prunes them, for
tests/test_cache_concurrent.py: `python _cache_worker.py ROLE ROOT ARG REPORT`.

- `layers ROOT LAYOUT REPORT`: reuse or write each layer of `KEYS` through the real
  `LayerCache` into its own layout, and check every blob it linked is whole;
- `wheels ROOT SECONDS REPORT`: hold each wheel entry as the wheelhouse does, fill it when a
  prune removed it, and read it whole;
- `prune ROOT LIMIT REPORT`: prune to LIMIT bytes until the file `ROOT/stop` appears.

Each writes a JSON report: the problems it saw (a missing or damaged file, an exception) and
what it did.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO

from imagekit.build.oci.cache import LayerCache
from imagekit.cache import Rule, prune, using
from imagekit.fsio import write_bytes
from imagekit.image.compress import write_blob
from imagekit.image.model import Compression

KEYS = 8
BLOB_BYTES = 48 * 1024
ROUNDS = 6


def payload(index: int) -> bytes:
    """Distinct, incompressible-enough bytes for layer or wheel `index`."""
    seed = hashlib.sha256(str(index).encode()).digest()
    return b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(1536))


def filler(data: bytes) -> Callable[[IO[bytes]], None]:
    """What `write_blob` calls to write the layer's bytes."""

    def fill(out: IO[bytes]) -> None:
        out.write(data)

    return fill


def key_of(index: int) -> str:
    return hashlib.sha256(f"key {index}".encode()).hexdigest()


def use_layers(root: Path, layout: Path, _: str) -> tuple[list[str], int]:
    cache, problems, written = LayerCache(root=root / "oci"), [], 0
    for round_ in range(ROUNDS):
        for index in range(KEYS):
            key, data = key_of(index), payload(index)
            blob = cache.reuse(key, layout)
            while blob is None:
                written += 1
                made = write_blob(cache.blobs, Compression.GZIP, filler(data))
                blob = made if cache.keep(key, made, layout) else None
            linked = layout / "blobs" / "sha256" / blob.descriptor.digest.removeprefix("sha256:")
            if not linked.is_file() or linked.stat().st_size != blob.descriptor.size:
                problems.append(f"round {round_}: {linked} missing or cut")
            linked.unlink(missing_ok=True)  # the next round links it again
    return problems, written


def use_wheels(root: Path, seconds: Path, _: str) -> tuple[list[str], int]:
    wheels, problems, written = root / "wheels", [], 0
    until = time.monotonic() + float(seconds.name)
    while time.monotonic() < until:
        for index in range(KEYS):
            data = payload(100 + index)
            digest = hashlib.sha256(data).hexdigest()
            entry = wheels / "sha256" / digest
            with using(wheels, digest, entry):
                wheel = entry / f"w{index}-1.0-py3-none-any.whl"
                if not wheel.is_file():
                    entry.mkdir(parents=True, exist_ok=True)
                    write_bytes(wheel, data)
                    written += 1
                time.sleep(0.002)  # a build hashing and linking it
                if hashlib.sha256(wheel.read_bytes()).hexdigest() != digest:
                    problems.append(f"{wheel} damaged")
    return problems, written


def prune_loop(root: Path, limit: Path, _: str) -> tuple[list[str], int]:
    removed = 0
    while not (root / "stop").exists():
        removed += len(prune(root, Rule(max_size=int(limit.name))).removed)
        time.sleep(0.01)
    return [], removed


ROLES: dict[str, Callable[[Path, Path, str], tuple[list[str], int]]] = {
    "layers": use_layers,
    "wheels": use_wheels,
    "prune": prune_loop,
}


def main(role: str, root: str, arg: str, report: str) -> None:
    try:
        problems, count = ROLES[role](Path(root), Path(arg), role)
    except Exception:  # the test reads every failure from the report
        problems, count = [traceback.format_exc()], 0
    Path(report).write_text(json.dumps({"problems": problems, "count": count}))


if __name__ == "__main__":
    main(*sys.argv[1:])
