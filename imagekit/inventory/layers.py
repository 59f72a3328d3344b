"""Walk an image's layers as streams and build the final view of its file system.

Each layer is read once, front to back (gzip, zstd or plain, told apart by magic bytes): every
regular file is hashed as it streams past (so a model file of many gigabytes is hashed without
being held), and the bytes of the few files the readers parse (`keep`) are kept in memory. The
layers are then stacked in the image's order, applying OCI whiteouts (`.wh.<name>` deletes a
path of the layers below, `.wh..wh..opq` empties a directory of them), into a `View`: path ->
`Entry`, the last layer's word on each path.

Nothing is ever written to disk. A member whose path is absolute or climbs out with `..` is
refused: the whole image is, with an error naming the layer and the member. A member name that
is not UTF-8 or holds control characters (a NUL, a newline) is kept in its escaped form
(`caf\\xe9`), so every path the inventory reports is printable text.

Every image is walked within a `Budget`: at most `MAX_KEPT_TOTAL` bytes of kept files (each at
most its reader's `Kept.limit`), and at most `MAX_UNPACKED` decompressed bytes, so a hostile
image (a gzip bomb, thousands of 60 MB METADATA files) is an error, not an exhausted machine.
"""

from __future__ import annotations

import enum
import hashlib
import os
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from imagekit.errors import InputError
from imagekit.image.streams import (
    CHUNK,
    DECOMPRESS_ERRORS,
    TAR_BUFSIZE,
    HashingReader,
    decompressed,
)
from imagekit.inventory.errors import InventoryError
from imagekit.inventory.interface import ImageSource, LayerStream, SourceImage
from imagekit.limits import load_json, shown

if TYPE_CHECKING:
    from imagekit.inventory.scancache import ScanCache

MAX_KEPT = 64 << 20  # a file the readers parse larger than this is reported, not read
# All kept files of one image together. A large CUDA + torch image keeps about 30 MB (200
# METADATA heads, RECORDs of up to 3 MB, a dpkg status of a few MB, a few hundred copyright
# files); past this the image is hostile, and an inventory without its files would be a lie.
MAX_KEPT_TOTAL = 256 << 20
# Decompressed bytes of all layers of one image. CUDA and torch layers unpack to ~10 GB; model
# weights add their size. A gzip bomb unpacks 1,000 times its size: past this, stop.
MAX_UNPACKED = 64 << 30
UNPACKED_VARIABLE = "IMAGEKIT_MAX_IMAGE_BYTES"  # raises (or lowers) MAX_UNPACKED, in bytes
MAX_SYMLINK_HOPS = 40  # as Linux's own limit
_OPAQUE = ".wh..wh..opq"
_WHITEOUT = ".wh."
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Kept:
    """How much of a file a reader parses: at most `limit` bytes. With `head`, a longer file
    keeps its first `limit` bytes (METADATA: the headers come first); else it is not kept."""

    limit: int
    head: bool = False


# Which files' bytes to keep: False (none), True (whole, up to `MAX_KEPT`), or a `Kept` rule.
Keep = Callable[[str], bool | Kept]


@dataclass(slots=True)
class Budget:
    """The bounds of one image's walk, and what has been spent of them, in bytes."""

    max_kept: int = MAX_KEPT_TOTAL
    max_unpacked: int = MAX_UNPACKED
    kept: int = 0
    unpacked: int = 0

    @classmethod
    def from_environment(cls) -> Budget:
        """The default budget, `MAX_UNPACKED` replaced by $IMAGEKIT_MAX_IMAGE_BYTES if set.

        Raises `InventoryError` if the variable is not a positive whole number of bytes.
        """
        value = os.environ.get(UNPACKED_VARIABLE, "").strip()
        if not value:
            return cls()
        if not (value.isascii() and value.isdigit()) or len(value) > 30 or int(value) <= 0:
            raise InventoryError(
                f"${UNPACKED_VARIABLE}={shown(value, 40)} is not a positive number of bytes "
                f"(set it to, say, {MAX_UNPACKED * 2} to read images up to 128 GiB unpacked)"
            )
        return cls(max_unpacked=int(value))


class EntryKind(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"  # devices, fifos


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One path of a layer (and, once stacked, of the image)."""

    path: str  # relative to the image root, normalised: "usr/lib/os-release"
    kind: EntryKind
    layer: str  # the diff id of the layer it comes from
    member: str  # its name in that layer's tar
    size: int = 0
    digest: bytes | None = None  # sha256 of a regular file's bytes
    target: str | None = None  # a symlink's target, as written
    data: bytes | None = None  # the bytes, for the files the readers parse
    # A root folder's file on this host: not read by the walk, hashed when `sha256` is asked
    # for (the plan's model artifacts are; nothing else is).
    host: str | None = None

    @property
    def sha256(self) -> str | None:
        if self.digest is None and self.host is not None:
            return _hash_host_file(self.host)
        return self.digest.hex() if self.digest is not None else None


def _hash_host_file(path: str) -> str | None:
    """sha256 of a file (not followed if a symlink); None if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerScan:
    """What one layer holds, before it is stacked on the layers below it."""

    name: str  # where the source keeps it
    diff_id: str  # sha256 of its uncompressed tar
    compression: str  # "gzip", "zstd", "none"
    entries: dict[str, Entry]
    whiteouts: tuple[str, ...]  # paths this layer deletes from the layers below
    opaque: tuple[str, ...]  # directories this layer empties of the layers below' contents
    hardlinks: tuple[tuple[str, str], ...]  # links to a path of a lower layer: (path, target)
    warnings: tuple[str, ...]


def printable_name(name: str) -> str:
    """A member name as printable text: bytes that were not UTF-8 (surrogate escapes, as tarfile
    reads them) become `\\xNN`, and so do control characters (NUL, newline, escape)."""
    if _UNPRINTABLE.search(name) is None:
        return name
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def safe_path(name: str, where: str) -> str:
    """A member name made relative to the image root (and printable, see `printable_name`);
    raises `InventoryError` if it escapes."""
    raw, name = name, printable_name(name)
    if name.startswith("/"):
        raise InventoryError(
            f"{where}: member '{shown(raw)}' has an absolute path: refused, nothing was extracted "
            "(the layer is malformed or hostile; rebuild it)"
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InventoryError(
            f"{where}: member '{shown(raw)}' climbs out of the image root with '..': refused, "
            "nothing was extracted (the layer is malformed or hostile; rebuild it)"
        )
    return "/".join(parts)


@dataclass(slots=True)
class _Scanning:
    where: str
    keep: Keep
    max_kept: int
    budget: Budget
    entries: dict[str, Entry] = field(default_factory=dict)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    hardlinks: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def hash_member(stream: IO[bytes], keep: int) -> tuple[bytes, bytes | None]:
    """sha256 of a member's bytes, and its first `keep` bytes if `keep` is not negative."""
    digest = hashlib.sha256()
    parts: list[bytes] = []
    left = keep
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        if left > 0:
            parts.append(chunk[:left])
            left -= len(parts[-1])
    return digest.digest(), b"".join(parts) if keep >= 0 else None


def _kept_size(state: _Scanning, path: str, size: int) -> int:
    return kept_size(
        state.keep,
        path,
        size,
        budget=state.budget,
        warnings=state.warnings,
        where=state.where,
        max_kept=state.max_kept,
    )


def kept_size(
    keep: Keep,
    path: str,
    size: int,
    *,
    budget: Budget,
    warnings: list[str],
    where: str,
    max_kept: int = MAX_KEPT,
) -> int:
    """How many bytes of the file at `path` to keep: -1 for none (a file too large for its rule
    is a warning). Raises `InventoryError` when the image's budget of kept bytes is spent."""
    rule = keep(path)
    if not rule:
        return -1
    limit = min(max_kept, rule.limit if isinstance(rule, Kept) else MAX_KEPT)
    if size > limit and not (isinstance(rule, Kept) and rule.head):
        warnings.append(f"{path}: {size} bytes, too large to read; skipped")
        return -1
    kept = min(size, limit)
    if budget.kept + kept > budget.max_kept:
        raise InventoryError(
            f"{where}: {path}: the files the inventory reads add up to more than "
            f"{budget.max_kept} bytes (MAX_KEPT_TOTAL); no real image keeps this much: "
            "the image is malformed or hostile"
        )
    budget.kept += kept
    return kept


def _regular(state: _Scanning, tar: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> None:
    keep = _kept_size(state, path, member.size)
    stream = tar.extractfile(member)
    if stream is None:  # a regular member always has content; tarfile's type says it may not
        raise InventoryError(f"{state.where}: member {shown(member.name)} has no content")
    digest, data = hash_member(stream, keep)
    state.entries[path] = Entry(
        path=path,
        kind=EntryKind.FILE,
        layer="",
        member=printable_name(member.name),
        size=member.size,
        digest=digest,
        data=data,
    )


def _hardlink(state: _Scanning, member: tarfile.TarInfo, path: str) -> None:
    target = safe_path(member.linkname, f"{state.where}: hard link '{shown(member.name)}'")
    found = state.entries.get(target)
    if found is None:  # not in this layer: resolved against the layers below
        state.hardlinks.append((path, target))
        return
    if found.data is None and state.keep(path):
        state.warnings.append(f"{path}: a hard link to {target}, whose bytes were not kept")
    state.entries[path] = replace(found, path=path, member=printable_name(member.name))


def _scan_member(state: _Scanning, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    path = safe_path(member.name, state.where)
    if not path:
        return  # the root directory itself
    parent, base = posixpath.split(path)
    if base == _OPAQUE:
        state.opaque.append(parent)
    elif base.startswith(_WHITEOUT + _WHITEOUT):
        pass  # other aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not files of the image
    elif base.startswith(_WHITEOUT):
        state.whiteouts.append(posixpath.join(parent, base.removeprefix(_WHITEOUT)))
    elif member.islnk():
        _hardlink(state, member, path)
    elif member.isreg():
        _regular(state, tar, member, path)
    else:
        kind = (
            EntryKind.DIR
            if member.isdir()
            else EntryKind.SYMLINK
            if member.issym()
            else EntryKind.OTHER
        )
        target = printable_name(member.linkname) if member.issym() else None
        state.entries[path] = Entry(
            path=path, kind=kind, layer="", member=printable_name(member.name), target=target
        )


def scan_layer(
    layer: LayerStream, keep: Keep, *, max_kept: int = MAX_KEPT, budget: Budget | None = None
) -> LayerScan:
    """Read one layer to its end, keeping the bytes of the files `keep` names (up to
    `max_kept` each) within the image's `budget` (spent as the layer is read; default: a
    fresh one). Raises `InventoryError` if it is corrupt or unsafe, or the budget runs out."""
    where = f"layer {layer.name}"
    budget = Budget() if budget is None else budget
    state = _Scanning(where=where, keep=keep, max_kept=max_kept, budget=budget)
    try:
        compression, plain = decompressed(layer.stream, where)
        too_large = (
            f"{where}: the image unpacks to more than {budget.max_unpacked} bytes "
            f"(MAX_UNPACKED; set ${UNPACKED_VARIABLE} to read a larger image); not read further"
        )
        left = budget.max_unpacked - budget.unpacked
        hashed = HashingReader(plain, limit=(left, InventoryError(too_large)))
        with tarfile.open(fileobj=hashed, mode="r|", bufsize=TAR_BUFSIZE) as tar:
            for member in tar:
                _scan_member(state, tar, member)
        hashed.drain()  # the end-of-archive padding is part of the diff id
        budget.unpacked += hashed.size
    except tarfile.TarError as e:
        raise InventoryError(f"{where}: not a readable tar ({e}); the image is corrupt") from e
    except DECOMPRESS_ERRORS as e:
        detail = str(e) or type(e).__name__
        raise InventoryError(
            f"{where}: cannot be decompressed ({detail}); the image is corrupt"
        ) from e
    diff_id = hashed.digest
    return LayerScan(
        name=layer.name,
        diff_id=diff_id,
        compression=compression,
        entries={p: replace(e, layer=diff_id) for p, e in state.entries.items()},
        whiteouts=tuple(state.whiteouts),
        opaque=tuple(state.opaque),
        hardlinks=tuple(state.hardlinks),
        warnings=tuple(state.warnings),
    )


class View:
    """The image's file system as its last layer leaves it: path -> `Entry`."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self._children: dict[str, set[str]] = {}  # every directory path -> paths right below it
        self._warnings: dict[str, None] = {}  # ordered, without repeats

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings)

    def warn(self, message: str) -> None:
        self._warnings[message] = None

    def json_object(
        self, data: bytes | None, where: str, ignored: str = "ignored"
    ) -> dict[str, Any] | None:
        """`data` parsed as a JSON object; None, with a warning ending in `ignored`, when it
        is absent, not JSON or not an object."""
        if data is None:
            return None
        try:
            value = load_json(data, where)
        except InputError as e:
            self.warn(f"{where}: not valid JSON ({e.message}); {ignored}")
            return None
        if not isinstance(value, dict):
            self.warn(f"{where}: not a JSON object; {ignored}")
            return None
        return value

    def _add(self, entry: Entry) -> None:
        if entry.kind is not EntryKind.DIR:
            self._remove_below(entry.path)  # a file over a directory hides what was in it
        self.entries[entry.path] = entry
        child = entry.path
        while child:
            parent = posixpath.dirname(child)
            siblings = self._children.setdefault(parent, set())
            if child in siblings:
                break
            siblings.add(child)
            child = parent

    def _remove(self, path: str) -> None:
        self._children.get(posixpath.dirname(path), set()).discard(path)
        self.entries.pop(path, None)
        self._remove_below(path)

    def _remove_below(self, path: str) -> None:
        # A loop, not recursion: a whiteout may delete a tree thousands of levels deep.
        todo = list(self._children.pop(path, ()))
        while todo:
            child = todo.pop()
            self.entries.pop(child, None)
            todo.extend(self._children.pop(child, ()))

    def stack(self, scan: LayerScan) -> None:
        """Put a layer on top: its whiteouts first (they hide lower layers only), then its paths."""
        for directory in scan.opaque:
            self._remove_below(directory)
        for path in scan.whiteouts:
            self._remove(path)
        for entry in scan.entries.values():
            self._add(entry)
        for path, target in scan.hardlinks:
            found = self.entries.get(target)
            if found is None:
                self.warn(f"layer {scan.name}: hard link {path} -> {target}: no such file")
            else:
                self._add(replace(found, path=path, layer=scan.diff_id))
        for message in scan.warnings:
            self.warn(f"layer {scan.name}: {message}")

    def resolve(self, path: str) -> str | None:
        """The path with every symlink on it followed, inside the image root.

        A symlink that climbs above the root, or a chain longer than 40 links (a loop), is
        reported as a warning and gives None.
        """
        todo = [p for p in reversed(path.split("/")) if p not in ("", ".")]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop()
            if part == "..":
                if not done:
                    self.warn(f"{path}: a symlink on it points above the image root; not followed")
                    return None
                done.pop()
                continue
            entry = self.entries.get("/".join([*done, part]))
            if entry is None or entry.kind is not EntryKind.SYMLINK or entry.target is None:
                done.append(part)
                continue
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                self.warn(f"{path}: symlink loop at {entry.path} -> {entry.target}; not followed")
                return None
            if entry.target.startswith("/"):
                done = []
            todo.extend(p for p in reversed(entry.target.split("/")) if p not in ("", "."))
        return "/".join(done)

    def file(self, path: str) -> Entry | None:
        """The regular file at `path` (absolute or not), symlinks followed; None if none."""
        resolved = self.resolve(path)
        entry = self.entries.get(resolved) if resolved is not None else None
        return entry if entry is not None and entry.kind is EntryKind.FILE else None

    def read(self, path: str) -> bytes | None:
        """The kept bytes of the file at `path`; None if there is none (or they were not kept)."""
        entry = self.file(path)
        if entry is not None and entry.data is None:
            self.warn(f"{path}: its bytes were not kept by the layer walk; not read")
        return entry.data if entry is not None else None

    def files(self, match: Callable[[str], bool]) -> Iterator[Entry]:
        """The regular files whose real path matches, sorted by path."""
        for path in sorted(p for p in self.entries if match(p)):
            entry = self.entries[path]
            if entry.kind is EntryKind.FILE:
                yield entry


def stack(scans: list[LayerScan], diff_ids: tuple[str, ...], where: str) -> View:
    """The layers stacked in the image's order (the config's diff ids; else as visited).

    Raises `InventoryError` if the config names a layer the source did not hold.
    """
    ordered = scans
    if diff_ids:
        by_id = {scan.diff_id: scan for scan in scans}
        missing = [d for d in diff_ids if d not in by_id]
        if missing:
            read = ", ".join(f"{s.name} = {s.diff_id}" for s in scans) or "none"
            raise InventoryError(
                f"{where}: the config lists layer {missing[0]}, which no layer of the image "
                f"holds (layers read: {read}); the image is corrupt or incomplete"
            )
        ordered = [by_id[d] for d in diff_ids]
    view = View()
    for scan in ordered:
        view.stack(scan)
    return view


@runtime_checkable
class ListedSource(Protocol):
    """A source whose files can be listed and read one by one (a root folder): it gives its one
    layer's scan itself, reading only the files `keep` names, instead of a tar of every byte."""

    def scan(self, keep: Keep, budget: Budget) -> tuple[SourceImage, LayerScan]: ...


def walk_image(
    source: ImageSource,
    keep: Keep,
    *,
    budget: Budget | None = None,
    scans: ScanCache | None = None,
) -> tuple[SourceImage, View, tuple[str, ...]]:
    """Read every layer of an image once, within `budget` (default: `Budget.from_environment`):
    its config, final view and layer diff ids (base first). With `scans`, a layer whose blob
    digest it holds is taken from it unread, and each layer read is stored in it. Raises
    `InventoryError`, its message naming the image."""
    found: list[LayerScan] = []
    read: list[tuple[str, LayerScan, int, int]] = []  # stored once their blobs are checked
    rule = f"{keep.__module__}.{keep.__qualname__}"  # what the stored scans kept
    try:
        spend = Budget.from_environment() if budget is None else budget

        def visit(layer: LayerStream) -> bool:
            stored = scans.get(layer.digest, rule) if scans is not None and layer.digest else None
            if stored is not None and _affordable(spend, stored.unpacked, stored.kept):
                spend.unpacked += stored.unpacked
                spend.kept += stored.kept
                found.append(replace(stored.scan, name=layer.name))
                return True
            unpacked, kept = spend.unpacked, spend.kept
            scan = scan_layer(layer, keep, budget=spend)
            found.append(scan)
            if scans is not None and layer.digest:
                read.append((layer.digest, scan, spend.unpacked - unpacked, spend.kept - kept))
            return False

        if isinstance(source, ListedSource):
            config, listed = source.scan(keep, spend)
            found.append(listed)
        else:
            config = source.read(visit)
        view = stack(found, config.diff_ids, source.reference)
        if scans is not None:
            for digest, scan, unpacked, kept in read:
                scans.put(digest, rule, scan, unpacked=unpacked, kept=kept)
    except InventoryError as e:
        raise e.in_image(source.reference) from e
    return config, view, config.diff_ids or tuple(s.diff_id for s in found)


def _affordable(budget: Budget, unpacked: int, kept: int) -> bool:
    """A stored scan fits what is left of the budget (else the layer is read, and fails as a
    read layer does)."""
    return (
        budget.unpacked + unpacked <= budget.max_unpacked and budget.kept + kept <= budget.max_kept
    )
