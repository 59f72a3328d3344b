"""One atomic write: a file is whole or absent, never half-written.

Every file imagekit writes for a reader (an SBOM, a build record, a rendered Dockerfile, a
cache entry, a layer blob, a docker-archive) goes to a temporary file in the same folder, is
flushed to disk, gets its mode, and is renamed over the target in one step (`os.replace`); on
any failure, Ctrl-C included, the temporary file is removed and an older target is left as it
was. The temporary file is locked while written, so one a killed writer left is swept later.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from imagekit.workdir import owned_file


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


@dataclass(slots=True)
class Staged:
    """A file being written under a temporary name (`path`), locked by this process."""

    file: BinaryIO
    path: Path
    published: bool = False

    def publish(self, target: Path, *, mode: int | None = None, mtime: int | None = None) -> Path:
        """Flush the file to disk, give it `mode` (default: `default_mode()`) and `mtime`
        (default: now), and rename it to `target` in one step; returns `target`."""
        self.file.flush()
        os.fsync(self.file.fileno())
        os.fchmod(self.file.fileno(), default_mode() if mode is None else mode)
        if mtime is not None:
            os.utime(self.file.fileno(), (mtime, mtime))
        self.path.replace(target)
        self.published = True
        return target


@contextmanager
def staged_file(folder: Path, prefix: str) -> Iterator[Staged]:
    """A new file `folder/<prefix>XXXXXXXX` to write and then `publish` under its final name,
    for a file named by what it holds (a blob by its digest). Unpublished when the block ends,
    or on any error, it is removed; one whose writer was killed is swept by the next writer
    with the same prefix (`imagekit.workdir.owned_file`). Raises `OSError`."""
    with owned_file(folder, prefix) as (f, tmp):
        staged = Staged(file=f, path=tmp)
        try:
            yield staged
        finally:
            if not staged.published:
                tmp.unlink(missing_ok=True)


@contextmanager
def atomic_file(
    path: Path, *, mode: int | None = None, mtime: int | None = None
) -> Iterator[BinaryIO]:
    """A binary file to write that becomes `path` when the block ends without an error.

    `mode`: the file's permissions (default: `default_mode()`); `mtime`: its modification time
    (default: now). Raises `OSError` from the writes; nothing is left at `path` but what was
    there before.
    """
    with staged_file(path.parent, f".{path.name}.") as staged:
        yield staged.file
        staged.publish(path, mode=mode, mtime=mtime)


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
