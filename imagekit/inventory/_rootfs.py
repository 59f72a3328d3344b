"""An unpacked root file system directory, read as if it were the image's only layer.

The directory is turned into a tar stream as it is read (sorted, symlinks never followed, hard
links kept as links), so the layer walker treats it exactly like any other layer.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imagekit.inventory._streams import CHUNK, IterStream
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import ImageConfig, LayerStream, LayerVisitor, SourceKind

_BLOCK = tarfile.BLOCKSIZE


def _entries(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every path under `root` (relative, sorted), with its lstat; symlinks are not followed.

    Depth first with a stack of listings, not recursion: a tree may be thousands of levels deep.
    """
    stack: list[Iterator[tuple[str, os.DirEntry[str]]]] = [_listing(root, "")]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        path, entry = child
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as e:
            raise InventoryError(f"{root / path}: cannot be read ({e.strerror})") from e
        yield path, st
        if stat.S_ISDIR(st.st_mode):
            stack.append(_listing(root, path))


def _listing(root: Path, rel: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """The entries of one directory, sorted by name, with their paths relative to `root`."""
    try:
        with os.scandir(root / rel if rel else root) as it:
            children = sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise InventoryError(f"{root / rel}: cannot be listed ({e.strerror})") from e
    return iter([(f"{rel}/{c.name}" if rel else c.name, c) for c in children])


def _header(name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    return info


def _content(path: Path, size: int) -> Iterator[bytes]:
    """Exactly `size` bytes of a regular file, opened without following a symlink."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e:
        raise InventoryError(f"{path}: cannot be read ({e.strerror})") from e
    with os.fdopen(fd, "rb") as f:
        left = size
        while left:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise InventoryError(f"{path}: shrank while it was read; read it again")
            left -= len(chunk)
            yield chunk
    if size % _BLOCK:
        yield b"\0" * (_BLOCK - size % _BLOCK)


def tar_chunks(root: Path) -> Iterator[bytes]:
    """A tar stream of the directory tree, produced as it is read."""
    seen: dict[tuple[int, int], str] = {}  # (device, inode) -> first path: hard links
    for name, st in _entries(root):
        info = _header(name, st)
        content: Iterator[bytes] = iter(())
        if stat.S_ISDIR(st.st_mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(st.st_mode):
            info.type = tarfile.SYMTYPE
            info.linkname = str((root / name).readlink())
        elif stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in seen:
            info.type = tarfile.LNKTYPE
            info.linkname = seen[(st.st_dev, st.st_ino)]
        elif stat.S_ISREG(st.st_mode):
            if st.st_nlink > 1:
                seen[(st.st_dev, st.st_ino)] = name
            info.size = st.st_size
            content = _content(root / name, st.st_size)
        else:
            continue  # devices, fifos and sockets hold nothing an inventory reads
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        yield from content
    yield b"\0" * (2 * _BLOCK)


@dataclass(frozen=True, slots=True, kw_only=True)
class RootfsSource:
    path: Path

    @property
    def kind(self) -> SourceKind:
        return SourceKind.ROOTFS

    @property
    def reference(self) -> str:
        return str(self.path)

    def read(self, visit: LayerVisitor) -> ImageConfig:
        """Visit the directory as one layer; raises `InventoryError` if it cannot be read."""
        if not self.path.is_dir():
            raise InventoryError(f"{self.path}: not a directory")
        stream = io.BufferedReader(IterStream(tar_chunks(self.path)), CHUNK)
        visit(LayerStream(name=str(self.path), media_type=None, stream=stream))
        return ImageConfig()
