"""One atomic write: a file is whole or absent, never half-written.

Every file imagekit writes for a reader (an SBOM, a build record, a rendered Dockerfile, a
cache entry) goes to a temporary file in the same folder, is flushed to disk, gets its mode,
and is renamed over the target in one step (`os.replace`); on any failure, Ctrl-C included,
the temporary file is removed and an older target is left as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def default_mode() -> int:
    """The mode `open()` gives a new file (0666 less the umask: 0644 under the usual 022).

    mkstemp's 0600 would hide an SBOM or a build record from the rest of a CI job. The umask is
    read from /proc, as os.umask can only be read by changing it (which races other threads).
    """
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


@contextmanager
def atomic_file(
    path: Path, *, mode: int | None = None, mtime: int | None = None
) -> Iterator[IO[bytes]]:
    """A binary file to write that becomes `path` when the block ends without an error.

    `mode`: the file's permissions (default: `default_mode()`); `mtime`: its modification time
    (default: now). Raises `OSError` from the writes; nothing is left at `path` but what was
    there before.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), default_mode() if mode is None else mode)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write `data` to `path` atomically; returns `path`. Raises `OSError`."""
    with atomic_file(path, mode=mode) as f:
        f.write(data)
    return path


def write_text(path: Path, text: str, *, mode: int | None = None) -> Path:
    """Write `text` (UTF-8, newlines as given) to `path` atomically; returns `path`."""
    return write_bytes(path, text.encode("utf-8"), mode=mode)


def write_json(path: Path, value: object, *, mode: int | None = None) -> Path:
    """Write `value` as JSON (indented, keys sorted, a final newline) to `path` atomically."""
    return write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n", mode=mode)


def copy_file(
    source: Path, path: Path, *, mode: int | None = None, mtime: int | None = None
) -> Path:
    """Copy the file `source` to `path` atomically (`source` may be `path` itself: a hard
    link becomes a file of its own); returns `path`. Raises `OSError`."""
    with source.open("rb") as src, atomic_file(path, mode=mode, mtime=mtime) as f:
        shutil.copyfileobj(src, f, 1 << 20)
    return path
