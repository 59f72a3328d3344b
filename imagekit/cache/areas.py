"""What the cache holds, area by area, as the entries a build uses and prune removes.

Below the cache root (`imagekit.cachedir.cache_root`):
- wheels/: `sha256/<hash>/<wheel>` and `metadata/sha256/<hash>/<wheel>.metadata`; one entry per
  hash (the wheel with its METADATA);
- debs/: `sha256/<hash>/<file>` (.debs and Packages indexes); one entry per hash;
- bases/: `<recipe hash>/`, an OCI layout; one entry per layout;
- oci/: the layer cache, `layers/<key>.json` naming a blob in `blobs/sha256/`; one entry per
  key, locked by its blob's digest, and one per blob no key names;
- facts/: `<manifest digest>.json`, what a base holds; one entry per file;
- scans/: `<key>.json.gz`, what a layer blob was found to hold (`inventory.scancache`); one
  entry per file (a scan removed while a build reads it costs that build a read of the blob).

Anything else is foreign: counted, reported, never removed. A symbolic link is never followed:
it counts as its own few bytes, and a link where an entry or an area should be is foreign.
Names beginning with a dot (locks, files being written, build work folders) are imagekit's own
and are neither entries nor foreign.
"""

from __future__ import annotations

import enum
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_HASH = re.compile(r"[0-9a-f]{64}")


class Area(enum.StrEnum):
    WHEELS = "wheels"
    DEBS = "debs"
    BASES = "bases"
    LAYERS = "layers"
    FACTS = "facts"
    SCANS = "scans"

    @property
    def folder(self) -> str:
        """The area's folder below the cache root."""
        return "oci" if self is Area.LAYERS else self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One unit a build uses and prune removes whole."""

    area: Area
    name: str  # shown: a hash, a layer key, `blob <digest>`
    paths: tuple[Path, ...]  # removed with the entry
    size: int  # bytes of `paths`, each file counted once in the whole cache
    last_used: float  # seconds since the epoch
    lock: str  # the name of its lock in `<area folder>/.locks/`
    blob: Path | None = None  # a layer's blob: removed with the last entry naming it
    blob_size: int = 0  # its bytes, the same in every entry naming it

    @property
    def holds(self) -> Path | None:
        """What marks the entry's last use (its first path; an unnamed blob itself)."""
        return self.paths[0] if self.paths else self.blob


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    root: Path
    entries: tuple[Entry, ...]
    foreign: tuple[Path, ...]
    foreign_size: int

    def total(self, area: Area | None = None) -> int:
        """Bytes of the entries (of `area`), a blob many layer keys name counted once."""
        chosen = [e for e in self.entries if area is None or e.area is area]
        blobs = {e.blob: e.blob_size for e in chosen if e.blob is not None}
        return sum(e.size for e in chosen) + sum(blobs.values())


@dataclass(slots=True)
class _Sizer:
    """Bytes of files, each (device, inode) counted once: a hard link costs nothing twice."""

    seen: set[tuple[int, int]] = field(default_factory=set)

    def size(self, path: Path) -> int:
        try:
            info = os.lstat(path)
        except OSError:
            return 0
        if stat.S_ISDIR(info.st_mode):
            return self._tree(path)
        return self._count(info)

    def _count(self, info: os.stat_result) -> int:
        key = (info.st_dev, info.st_ino)
        if key in self.seen:
            return 0
        self.seen.add(key)
        return info.st_size

    def _tree(self, folder: Path) -> int:
        total = 0
        for item in _listing(folder):
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                total += self._tree(Path(item.path))
            else:
                total += self._count(info)
        return total


def scan(root: Path, areas: tuple[Area, ...] = tuple(Area)) -> Scan:
    """Every entry of `areas` below `root`, and what is foreign there. Never raises for what
    it finds: unreadable folders and files are passed over."""
    sizer, entries, foreign = _Sizer(), list[Entry](), list[Path]()
    for area in areas:
        folder = root / area.folder
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            foreign.append(folder)
            continue
        found, strange = _SCANNERS[area](folder, area, sizer)
        entries += found
        foreign += strange
    if areas == tuple(Area):
        known = {a.folder for a in Area}
        foreign += [p for p in _children(root) if p.name not in known]
    size = sum(sizer.size(p) for p in foreign)
    return Scan(
        root=root, entries=tuple(entries), foreign=tuple(sorted(foreign)), foreign_size=size
    )


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as items:
            return list(items)
    except OSError:
        return []


def _children(folder: Path) -> list[Path]:
    """What `folder` holds, less imagekit's own dot-names."""
    return sorted(Path(x.path) for x in _listing(folder) if not x.name.startswith("."))


def _mtime(path: Path) -> float:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _is_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


_Found = tuple[list[Entry], list[Path]]


def _hash_dirs(folder: Path) -> Iterator[tuple[str, Path | None]]:
    """(hash, its folder) for each `<folder>/<hash>/`, or (name, None) for anything else."""
    for path in _children(folder):
        if _HASH.fullmatch(path.name) and _is_dir(path):
            yield path.name, path
        else:
            yield path.name, None


def _wheels(folder: Path, area: Area, sizer: _Sizer) -> _Found:
    groups: dict[str, list[Path]] = {}
    foreign = [p for p in _children(folder) if p.name not in {"sha256", "metadata"}]
    for sub in (folder / "sha256", folder / "metadata" / "sha256"):
        for name, path in _hash_dirs(sub):
            if path is None:
                foreign.append(sub / name)
            else:
                groups.setdefault(name, []).append(path)
    foreign += [p for p in _children(folder / "metadata") if p.name != "sha256"]
    return [_entry(area, name, tuple(paths), sizer) for name, paths in groups.items()], foreign


def _debs(folder: Path, area: Area, sizer: _Sizer) -> _Found:
    entries, foreign = [], [p for p in _children(folder) if p.name != "sha256"]
    for name, path in _hash_dirs(folder / "sha256"):
        if path is None:
            foreign.append(folder / "sha256" / name)
        else:
            entries.append(_entry(area, name, (path,), sizer))
    return entries, foreign


def _bases(folder: Path, area: Area, sizer: _Sizer) -> _Found:
    entries, foreign = [], []
    for name, path in _hash_dirs(folder):
        if path is None:
            foreign.append(folder / name)
        else:
            entries.append(_entry(area, name, (path,), sizer))
    return entries, foreign


def _facts(folder: Path, area: Area, sizer: _Sizer) -> _Found:
    return _hash_files(folder, area, sizer, ".json")


def _scans(folder: Path, area: Area, sizer: _Sizer) -> _Found:
    return _hash_files(folder, area, sizer, ".json.gz")


def _hash_files(folder: Path, area: Area, sizer: _Sizer, suffix: str) -> _Found:
    """One entry per `<folder>/<sha256 hex><suffix>` file."""
    entries, foreign = [], []
    for path in _children(folder):
        stem = path.name.removesuffix(suffix)
        if path.name.endswith(suffix) and _HASH.fullmatch(stem) and not path.is_symlink():
            entries.append(_entry(area, stem, (path,), sizer))
        else:
            foreign.append(path)
    return entries, foreign


def _entry(area: Area, name: str, paths: tuple[Path, ...], sizer: _Sizer) -> Entry:
    return Entry(
        area=area,
        name=name,
        paths=paths,
        size=sum(sizer.size(p) for p in paths),
        last_used=max(_mtime(p) for p in paths),
        lock=name,
    )


def _layers(folder: Path, area: Area, sizer: _Sizer) -> _Found:
    blobs = folder / "blobs" / "sha256"
    foreign = [p for p in _children(folder) if p.name not in {"blobs", "layers"}]
    foreign += [p for p in _children(folder / "blobs") if p.name != "sha256"]
    present = {}
    for path in _children(blobs):
        if _HASH.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            present[path.name] = path
        else:
            foreign.append(path)
    sizes = {digest: sizer.size(blob) for digest, blob in present.items()}
    entries, named = [], set()
    for path in _children(folder / "layers"):
        digest = _blob_of(path)
        if digest is None:
            foreign.append(path)
            continue
        named.add(digest)
        blob = present.get(digest)
        size, used = sizer.size(path), _mtime(path)
        entries.append(Entry(area=area, name=path.stem, paths=(path,), size=size, last_used=used,
                             lock=digest, blob=blob, blob_size=sizes.get(digest, 0)))  # fmt: skip
    for digest in sorted(set(present) - named):
        blob = present[digest]
        entries.append(Entry(area=area, name=f"blob {digest}", paths=(), size=0,
                             last_used=_mtime(blob), lock=digest, blob=blob,
                             blob_size=sizes[digest]))  # fmt: skip
    return entries, foreign


def _blob_of(path: Path) -> str | None:
    """The blob digest (hex) a `layers/<key>.json` names; None for anything else."""
    if path.suffix != ".json" or not _HASH.fullmatch(path.stem) or path.is_symlink():
        return None
    try:
        record = json.loads(path.read_bytes())
        digest = record["descriptor"]["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    hexdigest = digest.removeprefix("sha256:") if isinstance(digest, str) else ""
    return hexdigest if _HASH.fullmatch(hexdigest) else None


_SCANNERS = {
    Area.WHEELS: _wheels,
    Area.DEBS: _debs,
    Area.BASES: _bases,
    Area.LAYERS: _layers,
    Area.FACTS: _facts,
    Area.SCANS: _scans,
}
