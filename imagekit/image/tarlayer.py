"""Deterministic layer tarballs: the same files always give the same bytes and digests.

A `Tree` collects entries (later additions replace earlier ones at the same path); `write_layer`
emits them sorted by path, every parent directory explicitly, with no user or group names, no
access/change times and no extended time headers (PAX headers appear only for long or non-ASCII
names), then compresses them (`imagekit.image.compress`) while hashing both streams: the diff id
(uncompressed) and the blob digest (compressed).
"""

from __future__ import annotations

import enum
import io
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from imagekit.image.compress import write_blob
from imagekit.image.errors import OciError
from imagekit.image.model import Compression, LayerBlob

_CHUNK = 1 << 20
FILE_MODE, EXEC_MODE, DIR_MODE = 0o644, 0o755, 0o755

Opener = Callable[[], IO[bytes]]
Placer = Callable[[str, bool], str | None]


class EntryKind(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"


_TAR_TYPES = {
    EntryKind.FILE: tarfile.REGTYPE,
    EntryKind.DIR: tarfile.DIRTYPE,
    EntryKind.SYMLINK: tarfile.SYMTYPE,
    EntryKind.HARDLINK: tarfile.LNKTYPE,
    EntryKind.CHAR: tarfile.CHRTYPE,
    EntryKind.BLOCK: tarfile.BLKTYPE,
    EntryKind.FIFO: tarfile.FIFOTYPE,
}
_KINDS = {v: k for k, v in _TAR_TYPES.items()} | {tarfile.AREGTYPE: EntryKind.FILE}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One tar entry; `path` is relative to the image root, without a leading or trailing /."""

    path: str
    kind: EntryKind
    mode: int
    mtime: int
    uid: int = 0
    gid: int = 0
    size: int = 0
    linkname: str = ""
    device: tuple[int, int] = (0, 0)
    opener: Opener | None = field(default=None, compare=False)


def bytes_entry(path: str, data: bytes, *, mtime: int, mode: int = FILE_MODE) -> Entry:
    return Entry(
        path=path.strip("/"),
        kind=EntryKind.FILE,
        mode=mode,
        mtime=mtime,
        size=len(data),
        opener=lambda: io.BytesIO(data),
    )


class Tree:
    """The entries of one layer, by path."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> None:
        self.entries[entry.path] = entry

    def dir(self, path: str, *, mtime: int, uid: int = 0, gid: int = 0) -> None:
        path = path.strip("/")
        self.add(Entry(path=path, kind=EntryKind.DIR, mode=DIR_MODE, mtime=mtime, uid=uid, gid=gid))

    def add_directory(self, root: Path, dest: str, *, mtime: int) -> None:
        """Everything under `root`, placed at `dest`, with fixed modes, owner root, `mtime`."""
        for path in sorted(root.rglob("*")):
            name = f"{dest.strip('/')}/{path.relative_to(root).as_posix()}".lstrip("/")
            self.add(_disk_entry(path, name, mtime))

    def add_tar(self, tar: tarfile.TarFile, *, clamp: int, place: Placer) -> None:
        """A distribution's tarball: modes and owners kept, mtimes clamped to `clamp`.

        `place(path, is_dir)` maps each member's path to its path in the layer, or None to
        leave it out.
        """
        for member in tar:
            name = _member_name(member.name)
            where = place(name, member.isdir()) if name else None
            if where:
                self.add(_tar_entry(tar, member, where, clamp, place))


def _disk_entry(path: Path, name: str, mtime: int) -> Entry:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return Entry(
            path=name,
            kind=EntryKind.SYMLINK,
            mode=0o777,
            mtime=mtime,
            linkname=str(path.readlink()),
        )
    if stat.S_ISDIR(st.st_mode):
        return Entry(path=name, kind=EntryKind.DIR, mode=DIR_MODE, mtime=mtime)
    if not stat.S_ISREG(st.st_mode):
        raise OciError(f"{path}: not a regular file, directory or symlink; remove it")
    mode = EXEC_MODE if st.st_mode & 0o111 else FILE_MODE
    return Entry(
        path=name,
        kind=EntryKind.FILE,
        mode=mode,
        mtime=mtime,
        size=st.st_size,
        opener=lambda: path.open("rb"),
    )


def _member_name(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise OciError(f"tar member {name!r} climbs out of the root; the tarball is unsafe")
    return "/".join(parts)


def _tar_entry(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    name: str,
    clamp: int,
    place: Placer,
) -> Entry:
    kind = _KINDS.get(member.type)
    if kind is None:
        raise OciError(f"tar member {member.name!r} has unsupported type {member.type!r}")
    linkname = member.linkname
    if kind is EntryKind.HARDLINK:
        linkname = place(_member_name(linkname), False) or ""
    opener = _member_opener(tar, member) if kind is EntryKind.FILE else None
    return Entry(
        path=name,
        kind=kind,
        mode=stat.S_IMODE(member.mode),
        uid=member.uid,
        gid=member.gid,
        mtime=min(int(member.mtime), clamp),
        size=member.size,
        linkname=linkname,
        device=(member.devmajor, member.devminor),
        opener=opener,
    )


def _member_opener(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Opener:
    def opener() -> IO[bytes]:
        reader = tar.extractfile(member)
        if reader is None:
            raise OciError(f"tar member {member.name!r} has no content")
        return reader

    return opener


def _with_parents(tree: Tree, mtime: int) -> dict[str, Entry]:
    entries = dict(tree.entries)
    for path in list(entries):
        parent = path.rpartition("/")[0]
        while parent and parent not in entries:
            entries[parent] = Entry(path=parent, kind=EntryKind.DIR, mode=DIR_MODE, mtime=mtime)
            parent = parent.rpartition("/")[0]
    return entries


def _hardlinks_first(entries: dict[str, Entry]) -> list[Entry]:
    """Entries sorted by path; of files linked together, the first name carries the data."""
    groups: dict[str, list[str]] = {}
    for entry in entries.values():
        if entry.kind is EntryKind.HARDLINK:
            linked = entries.get(entry.linkname)
            if linked is None or linked.kind is not EntryKind.FILE:
                raise OciError(f"hard link {entry.path} -> {entry.linkname}: no such file here")
            groups.setdefault(entry.linkname, [entry.linkname]).append(entry.path)
    for target, names in groups.items():
        first, *others = sorted(names)
        entries[first] = replace(entries[target], path=first)
        for name in others:
            entries[name] = replace(entries[name], linkname=first, kind=EntryKind.HARDLINK)
    return [entries[path] for path in sorted(entries, key=lambda p: p.encode())]


def _tarinfo(entry: Entry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path)
    info.type = _TAR_TYPES[entry.kind]
    info.mode, info.uid, info.gid, info.mtime = entry.mode, entry.uid, entry.gid, entry.mtime
    info.uname = info.gname = ""
    info.size = entry.size if entry.kind is EntryKind.FILE else 0
    info.linkname = entry.linkname
    info.devmajor, info.devminor = entry.device
    return info


def write_tar(tree: Tree, out: IO[bytes], *, mtime: int) -> None:
    """The layer's uncompressed tar stream, deterministic, into `out`."""
    entries = _hardlinks_first(_with_parents(tree, mtime))
    with tarfile.open(
        fileobj=out,
        mode="w",
        format=tarfile.PAX_FORMAT,  # type: ignore[call-overload]
        copybufsize=_CHUNK,
    ) as tar:
        for entry in entries:
            info = _tarinfo(entry)
            if entry.kind is EntryKind.FILE and entry.opener is not None:
                with entry.opener() as content:
                    tar.addfile(info, content)
            else:
                tar.addfile(info)


def write_layer(tree: Tree, blobs: Path, *, mtime: int, compression: Compression) -> LayerBlob:
    """Write `tree` as a compressed layer blob into `blobs` (named by its digest).

    Raises `OciError` for a hard link without its file; an interrupted write leaves no blob.
    """
    return write_blob(blobs, compression, lambda writer: write_tar(tree, writer, mtime=mtime))


def iter_members(
    stream: IO[bytes], where: str
) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """The members of a layer tar stream, read once; raises `OciError` on a corrupt stream."""
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                yield tar, member
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise OciError(
            f"{where}: the layer is corrupt ({e}); delete it so it is rebuilt or fetched again"
        ) from e
