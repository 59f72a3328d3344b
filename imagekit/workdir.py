"""Work folders a build owns while it runs, and the sweep of those a killed build left behind.

A build writes into temporary folders beside its outputs (`context-*`, `.work-*`, `.oci-*`,
`.load-*`) and removes them when it ends, even on an error or Ctrl-C. A SIGKILL (or a power
cut) skips that, so each folder has a lock file beside it, `<folder>.lock`, that the build holds
with `flock` for as long as the folder is in use: the kernel drops the lock when the process
dies, however it dies. The next build that makes a folder with the same prefix first removes
every sibling whose lock nobody holds; a folder of a build still running (in this process or
another) is never touched, since its lock is held.

A folder without a lock file was made by an older imagekit: it is removed once it is older than
`UNLOCKED_STALE_S`, as no build runs that long without writing into its folder.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from stat import S_ISDIR
from typing import BinaryIO

LOCK_SUFFIX = ".lock"
# A lock-less work folder (from an imagekit before locks) this old belongs to no running build.
UNLOCKED_STALE_S = 24 * 3600


@contextlib.contextmanager
def owned_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A new empty folder `parent/<prefix>XXXXXXXX`, locked for this process until the block
    ends and then removed (whatever is still there); leftovers of killed builds with the same
    prefix are removed first. Raises `OSError` when `parent` cannot be written."""
    parent.mkdir(parents=True, exist_ok=True)
    sweep(parent, prefix)
    fd, folder = _claim(parent, prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _lock_of(folder).unlink(missing_ok=True)
        os.close(fd)


@contextlib.contextmanager
def owned_file(parent: Path, prefix: str) -> Iterator[tuple[BinaryIO, Path]]:
    """A new empty file `parent/<prefix>XXXXXXXX`, open for writing and locked (its own flock)
    until the block ends; the caller renames or removes it. Files with the same prefix whose
    writer died (no lock held) are removed first."""
    parent.mkdir(parents=True, exist_ok=True)
    sweep_files(parent, prefix)
    while True:
        fd, name = tempfile.mkstemp(prefix=prefix, dir=parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, Path(name)):  # a sweeper did not take it between mkstemp and flock
            break
        os.close(fd)
    with os.fdopen(fd, "w+b") as f:
        yield f, Path(name)


def sweep_files(parent: Path, prefix: str) -> list[Path]:
    """Remove the files `parent/<prefix>*` whose writer is gone (their flock is free)."""
    try:
        paths = sorted(p for p in parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return []
    removed: list[Path] = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same_file(fd, path):
                path.unlink()
                removed.append(path)
        except OSError:  # BlockingIOError: a live writer holds it
            pass
        finally:
            os.close(fd)
    return removed


def _lock_of(folder: Path) -> Path:
    return folder.with_name(folder.name + LOCK_SUFFIX)


def _claim(parent: Path, prefix: str) -> tuple[int, Path]:
    """Make and lock `<prefix>XXXXXXXX.lock`, then its folder; the lock's fd and the folder.

    The lock comes first, so a folder of a live build never exists without its held lock.
    """
    while True:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=LOCK_SUFFIX, dir=parent)
        lock = Path(name)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file: only a sweeper can hold it, briefly
        folder = lock.with_name(lock.name.removesuffix(LOCK_SUFFIX))
        try:
            if _same_file(fd, lock):  # a sweeper did not take it between mkstemp and flock
                os.write(fd, f"{os.getpid()}\n".encode())
                folder.mkdir(0o755)
                return fd, folder
        except FileExistsError:  # an old lock-less folder has this name: try another one
            lock.unlink()
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return path.stat().st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def sweep(parent: Path, prefix: str) -> list[Path]:
    """Remove the work folders `parent/<prefix>*` whose owner is gone; the folders removed.

    Never raises for a folder that vanished meanwhile or cannot be removed; it is tried again
    by the next build.
    """
    try:
        names = sorted(p.name for p in parent.iterdir() if p.name.startswith(prefix))
    except OSError:
        return []
    removed: list[Path] = []
    for name in names:
        path = parent / name
        if name.endswith(LOCK_SUFFIX):
            if not (parent / name.removesuffix(LOCK_SUFFIX)).exists():
                _remove_if_unowned(path.with_name(name.removesuffix(LOCK_SUFFIX)))
        elif _lock_of(path).exists():
            if _remove_if_unowned(path):
                removed.append(path)
        elif _is_stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _remove_if_unowned(folder: Path) -> bool:
    """Remove `folder` and its lock if no process holds the lock; whether it was removed."""
    lock = _lock_of(folder)
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live build owns it
        if not _same_file(fd, lock):
            return False  # removed and made again meanwhile: a new owner's
        shutil.rmtree(folder, ignore_errors=True)
        lock.unlink()
        return True
    finally:
        os.close(fd)


def _is_stale(path: Path) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return S_ISDIR(st.st_mode) and time.time() - st.st_mtime > UNLOCKED_STALE_S


def write_problem(path: Path, what: str, error: OSError) -> str:
    """One line for a failed write of `what` at `path`: the system's reason and the fix."""
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free space on that disk, or write to another one"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make the folder writable, or write to another one"
    else:
        fix = "check the disk and the folder, then build again"
    return f"{path}: cannot write {what}: {reason}; nothing was left half-written (fix: {fix})"
