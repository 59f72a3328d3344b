"""Locks on cache entries: a build holds an entry shared while it uses it, prune exclusively.

Each entry's lock is a file `<area folder>/.locks/<name>.lock` locked with `flock`; the kernel
drops it when its holder dies, however it dies. A build takes it shared (many builds use one
wheel at once) and waits while a prune holds it; a prune takes it exclusive without waiting and
passes over an entry in use, so nothing a running build uses is deleted underneath it. The lock
file of a removed entry is removed under its exclusive lock; whoever then finds it unlinked
opens it again, so two holders never lock two different files of one name.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOCKS = ".locks"


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A held lock: `discard` removes its file (under an exclusive lock, before release)."""

    path: Path
    fd: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def lock_path(area: Path, name: str) -> Path:
    """The lock file of entry `name` of the area folder `area`."""
    return area / LOCKS / f"{name}.lock"


@contextlib.contextmanager
def shared(area: Path, name: str) -> Iterator[Held]:
    """Hold entry `name` of `area` shared until the block ends, waiting for a prune of it.
    Raises `OSError` when the lock file cannot be made (a read-only cache)."""
    held = _acquire(lock_path(area, name), fcntl.LOCK_SH)
    if held is None:
        raise AssertionError("a blocking flock returned without the lock")
    try:
        yield held
    finally:
        os.close(held.fd)


@contextlib.contextmanager
def exclusive(area: Path, name: str) -> Iterator[Held | None]:
    """Hold entry `name` of `area` exclusively, or None when a build holds it now (not waited
    for). Raises `OSError` when the lock file cannot be made."""
    held = _acquire(lock_path(area, name), fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield held
    finally:
        if held is not None:
            os.close(held.fd)


@contextlib.contextmanager
def using(area: Path, name: str, marker: Path) -> Iterator[None]:
    """`shared`, and `marker` (the entry's file or folder) marked as used now. A cache that
    cannot be written (read-only, shared from elsewhere) is used without a lock."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(shared(area, name))
        except OSError:
            pass  # nothing can prune a cache that cannot be written
        else:
            touch(marker)
        yield


def touch(path: Path) -> None:
    """Mark `path` as used now (its mtime: atime is not kept on noatime mounts); a missing or
    read-only path is left as it is."""
    now = time.time()
    with contextlib.suppress(OSError):
        os.utime(path, (now, now), follow_symlinks=False)


def _acquire(path: Path, operation: int) -> Held | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if _is_current(fd, path):
            return Held(path=path, fd=fd)
        os.close(fd)  # a prune removed this lock file while we waited for it: take the new one


def _is_current(fd: int, path: Path) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
