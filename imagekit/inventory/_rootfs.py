"""An unpacked root file system directory, read as if it were the image's only layer.

The inventory lists the directory itself (`RootfsSource.scan`): every path with its kind, size
and link target, sorted, symlinks never followed, hard links kept as links; only the bytes of
the files the readers parse are read (a Debian root of 300 MB: about 3 MB). Read as a source of
layers (`RootfsSource.read`), the directory is turned into a tar stream as it is read, so the
layer walker treats it exactly like any other layer.

A root may be a live one (`/`): the kernel's virtual file systems (`DEFAULT_EXCLUDES`: /proc,
/sys, /dev, /run) are not entered unless asked for, the user's `exclude` patterns are skipped
too, and a file or directory that cannot be read (permission denied, removed or shrunk while
it was read) is a warning naming it, never the end of the inventory.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from imagekit.image.streams import CHUNK, IterStream
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import LayerStream, LayerVisitor, SourceImage, SourceKind
from imagekit.inventory.layers import (
    Budget,
    Entry,
    EntryKind,
    Keep,
    LayerScan,
    hash_member,
    kept_size,
    printable_name,
)

_BLOCK = tarfile.BLOCKSIZE
# The kernel's virtual file systems and the run-time state of a live system: nothing an
# inventory reads, and files there (/proc/1/auxv) refuse to be read or change as they are.
DEFAULT_EXCLUDES = ("/proc", "/sys", "/dev", "/run")
LAYER_NAME = "root file system"  # the one layer's name in messages: never a host path


def excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether `path` (inside the root, "/usr/lib") is matched by one of `patterns`.

    A pattern is a path inside the root ("/proc", "/srv/data") or a shell glob ("/home/*/.cache",
    "*.iso", where `*` matches "/" too); a pattern without a leading "/" is taken from the root,
    and a trailing "/" is ignored.
    """
    rooted = (p if p.startswith(("/", "*")) else f"/{p}" for p in patterns)
    return any(fnmatch.fnmatchcase(path, p.rstrip("/") or p) for p in rooted)


@dataclass(slots=True)
class _Walk:
    """One reading of a root: what to skip, and what could not be read."""

    root: Path
    exclude: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)

    def warn(self, rel: str, what: str, error: OSError | None = None) -> None:
        why = f" ({error.strerror or error})" if error is not None else ""
        self.warnings.append(f"/{rel}: {what}{why}; skipped")

    def entries(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every path under the root (relative, sorted), with its lstat; symlinks are not
        followed, excluded paths not entered.

        Depth first with a stack of listings, not recursion: a tree may be thousands of levels
        deep."""
        stack: list[Iterator[tuple[str, os.DirEntry[str]]]] = [self.listing("")]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                continue
            path, entry = child
            if excluded(f"/{path}", self.exclude):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as e:
                self.warn(path, "cannot be read", e)
                continue
            yield path, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(self.listing(path))

    def listing(self, rel: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """The entries of one directory, sorted by name, with their paths relative to the root;
        none, with a warning, if it cannot be listed."""
        try:
            with os.scandir(self.root / rel if rel else self.root) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError as e:
            if not rel:
                raise InventoryError(f"{self.root}: cannot be listed ({e.strerror})") from e
            self.warn(rel, "cannot be listed", e)
            return iter(())
        return iter([(f"{rel}/{c.name}" if rel else c.name, c) for c in children])

    def content(self, rel: str, size: int) -> Iterator[bytes] | None:
        """Exactly `size` bytes of a regular file (opened without following a symlink), with
        the tar padding; None, with a warning, if it cannot be opened. A file that fails or
        shrinks while it is read is padded with zeros (the tar stays whole) and warned about."""
        try:
            fd = os.open(self.root / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as e:
            self.warn(rel, "cannot be read", e)
            return None
        return self._chunks(fd, rel, size)

    def _chunks(self, fd: int, rel: str, size: int) -> Iterator[bytes]:
        left = size
        with os.fdopen(fd, "rb") as f:
            while left:
                try:
                    chunk = f.read(min(CHUNK, left))
                except OSError as e:
                    self.warnings.append(f"/{rel}: failed while it was read ({e.strerror})")
                    break
                if not chunk:
                    self.warnings.append(f"/{rel}: shrank while it was read")
                    break
                left -= len(chunk)
                yield chunk
        while left:  # what could not be read: zeros, so the sizes in the tar hold
            yield b"\0" * min(CHUNK, left)
            left -= min(CHUNK, left)
        if size % _BLOCK:
            yield b"\0" * (_BLOCK - size % _BLOCK)


def _header(name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    return info


def _tar_chunks(walk: _Walk) -> Iterator[bytes]:
    seen: dict[tuple[int, int], str] = {}  # (device, inode) -> first path: hard links
    for name, st in walk.entries():
        info = _header(name, st)
        content: Iterator[bytes] = iter(())
        if stat.S_ISDIR(st.st_mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(st.st_mode):
            info.type = tarfile.SYMTYPE
            try:
                info.linkname = str((walk.root / name).readlink())
            except OSError as e:
                walk.warn(name, "cannot be read", e)
                continue
        elif stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in seen:
            info.type = tarfile.LNKTYPE
            info.linkname = seen[(st.st_dev, st.st_ino)]
        elif stat.S_ISREG(st.st_mode):
            opened = walk.content(name, st.st_size)
            if opened is None:
                continue
            content = opened
            if st.st_nlink > 1:
                seen[(st.st_dev, st.st_ino)] = name
            info.size = st.st_size
        else:
            continue  # devices, fifos and sockets hold nothing an inventory reads
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        yield from content
    yield b"\0" * (2 * _BLOCK)


@dataclass(slots=True)
class _Listing:
    """One listing of a root for the inventory: the entries so far, and what they cost."""

    walk: _Walk
    keep: Keep
    budget: Budget
    entries: dict[str, Entry] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the readers' (a file too large)
    links: dict[tuple[int, int], str] = field(default_factory=dict)  # (device, inode) -> path

    def add(self, name: str, st: os.stat_result) -> None:
        member = printable_name(name)
        if stat.S_ISDIR(st.st_mode):
            self.entries[name] = Entry(path=name, kind=EntryKind.DIR, layer="", member=member)
        elif stat.S_ISLNK(st.st_mode):
            try:
                target = str((self.walk.root / name).readlink())
            except OSError as e:
                self.walk.warn(name, "cannot be read", e)
                return
            self.entries[name] = Entry(
                path=name,
                kind=EntryKind.SYMLINK,
                layer="",
                member=member,
                target=printable_name(target),
            )
        elif stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) in self.links:
            first = self.entries[self.links[(st.st_dev, st.st_ino)]]
            self.entries[name] = replace(first, path=name, member=member)
        elif stat.S_ISREG(st.st_mode):
            entry = self._file(name, member, st.st_size)
            if entry is not None:
                self.entries[name] = entry
                if st.st_nlink > 1:
                    self.links[(st.st_dev, st.st_ino)] = name

    def _file(self, name: str, member: str, size: int) -> Entry | None:
        """A regular file: its bytes read (and hashed) if a reader keeps them, else only opened
        (so what cannot be read is a warning, as when it is read whole) and hashed if asked."""
        keep = kept_size(
            self.keep, name, size, budget=self.budget, warnings=self.warnings, where=LAYER_NAME
        )
        host = self.walk.root / name
        try:
            fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as e:
            self.walk.warn(name, "cannot be read", e)
            return None
        with os.fdopen(fd, "rb") as f:
            if keep < 0:
                return Entry(
                    path=name,
                    kind=EntryKind.FILE,
                    layer="",
                    member=member,
                    size=size,
                    host=str(host),
                )
            try:
                digest, data = hash_member(f, keep)
            except OSError as e:
                self.walk.warn(name, "failed while it was read", e)
                return None
        return Entry(
            path=name,
            kind=EntryKind.FILE,
            layer="",
            member=member,
            size=size,
            digest=digest,
            data=data,
        )

    def scan(self) -> LayerScan:
        listing = hashlib.sha256()  # the root's "diff id": a digest of what was listed
        for name, st in self.walk.entries():
            self.add(name, st)
            entry = self.entries.get(name)
            if entry is not None:
                line = f"{entry.kind} {entry.member} {entry.size} {entry.target or ''}\n"
                listing.update(line.encode())
        return LayerScan(
            name=LAYER_NAME,
            diff_id=f"sha256:{listing.hexdigest()}",
            compression="none",
            entries=self.entries,
            whiteouts=(),
            opaque=(),
            hardlinks=(),
            warnings=tuple(self.warnings),
        )


def tar_chunks(root: Path, exclude: tuple[str, ...] = ()) -> Iterator[bytes]:
    """A tar stream of the directory tree, produced as it is read (what cannot be read is
    left out, silently: `RootfsSource` reports it)."""
    return _tar_chunks(_Walk(root=root, exclude=exclude))


@dataclass(frozen=True, slots=True, kw_only=True)
class RootfsSource:
    path: Path
    # Paths or globs inside the root not read (see `excluded`); DEFAULT_EXCLUDES are added
    # unless `default_excludes` is False.
    exclude: tuple[str, ...] = ()
    default_excludes: bool = True

    @property
    def kind(self) -> SourceKind:
        return SourceKind.ROOTFS

    @property
    def reference(self) -> str:
        return str(self.path)

    @property
    def patterns(self) -> tuple[str, ...]:
        return (DEFAULT_EXCLUDES if self.default_excludes else ()) + self.exclude

    def scan(self, keep: Keep, budget: Budget) -> tuple[SourceImage, LayerScan]:
        """The directory as one layer's scan, reading the bytes of the files `keep` names only;
        what in it cannot be read is in the config's `warnings`. Raises `InventoryError` if the
        directory itself cannot be read."""
        if not self.path.is_dir():
            raise InventoryError(f"{self.path}: not a directory")
        walk = _Walk(root=self.path, exclude=self.patterns)
        scan = _Listing(walk=walk, keep=keep, budget=budget).scan()
        return SourceImage(warnings=tuple(walk.warnings)), scan

    def read(self, visit: LayerVisitor) -> SourceImage:
        """Visit the directory as one layer; what in it cannot be read is in the config's
        `warnings`. Raises `InventoryError` if the directory itself cannot be read."""
        if not self.path.is_dir():
            raise InventoryError(f"{self.path}: not a directory")
        walk = _Walk(root=self.path, exclude=self.patterns)
        stream = io.BufferedReader(IterStream(_tar_chunks(walk)), CHUNK)
        visit(LayerStream(name=LAYER_NAME, media_type=None, stream=stream))
        return SourceImage(warnings=tuple(walk.warnings))
