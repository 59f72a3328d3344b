"""Pruning: the least recently used entries go until the cache is under its limit.

An entry is removed only under its exclusive lock (`imagekit.cache.lock`), so one a build holds
is passed over (and reported as in use), never deleted underneath it; one used since the scan
is kept. A layer's blob goes with the last layer key naming it; a blob no key names is an entry
of its own. Foreign files are left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from imagekit.cache.areas import Area, Entry, Scan, scan
from imagekit.cache.lock import exclusive


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What prune removes: entries unused for `older_than` seconds, then the least recently
    used until the chosen areas hold at most `max_size` bytes."""

    max_size: int | None = None
    older_than: float | None = None
    areas: tuple[Area, ...] = tuple(Area)
    dry_run: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Removed:
    entry: Entry
    freed: int  # its bytes, its blob's too when it was the last entry naming it


@dataclass(frozen=True, slots=True, kw_only=True)
class Pruned:
    removed: tuple[Removed, ...]
    freed: int
    in_use: tuple[Entry, ...]  # wanted gone, but a build holds them (or used them since)
    failed: tuple[Entry, ...]  # could not be removed (permissions): left as they were
    before: int
    after: int
    rule: Rule
    foreign: tuple[Path, ...]
    foreign_size: int

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.rule.dry_run,
            "max_size": self.rule.max_size,
            "older_than_seconds": self.rule.older_than,
            "areas": [a.value for a in self.rule.areas],
            "bytes_before": self.before,
            "bytes_after": self.after,
            "bytes_freed": self.freed,
            "removed": [{**_entry_dict(r.entry), "bytes_freed": r.freed} for r in self.removed],
            "in_use": [_entry_dict(e) for e in self.in_use],
            "failed": [_entry_dict(e) for e in self.failed],
            "foreign": [str(p) for p in self.foreign],
            "foreign_bytes": self.foreign_size,
        }


def _entry_dict(entry: Entry) -> dict[str, object]:
    return {"area": entry.area.value, "name": entry.name, "last_used": entry.last_used}


def prune(root: Path, rule: Rule, *, now: float | None = None) -> Pruned:
    """Remove what `rule` asks from the cache at `root` (nothing with `dry_run`).
    Raises `OSError` only when a lock file cannot be made (a read-only cache)."""
    scanned = time.time()
    found = scan(root, rule.areas)
    return _Pruner(found, rule, now=scanned if now is None else now, scanned=scanned).run()


class _Pruner:
    def __init__(self, found: Scan, rule: Rule, *, now: float, scanned: float) -> None:
        self.found, self.rule, self.now, self.scanned = found, rule, now, scanned
        self.total = found.total()
        self.refs = Counter(e.blob for e in found.entries if e.blob is not None)
        self.removed: list[Removed] = []
        self.in_use: list[Entry] = []
        self.failed: list[Entry] = []
        self.freed = 0

    def run(self) -> Pruned:
        for entry in sorted(self.found.entries, key=lambda e: (e.last_used, e.area, e.name)):
            if not self._wanted(entry):
                break
            self._remove(entry)
        return Pruned(
            removed=tuple(self.removed),
            freed=self.freed,
            in_use=tuple(self.in_use),
            failed=tuple(self.failed),
            before=self.found.total(),
            after=self.total,
            rule=self.rule,
            foreign=self.found.foreign,
            foreign_size=self.found.foreign_size,
        )

    def _wanted(self, entry: Entry) -> bool:
        """In least-recently-used order: too old, or the cache still over its limit."""
        old = self.rule.older_than is not None and entry.last_used < self.now - self.rule.older_than
        over = self.rule.max_size is not None and self.total > self.rule.max_size
        return old or over

    def _remove(self, entry: Entry) -> None:
        area = self.found.root / entry.area.folder
        with exclusive(area, entry.lock) as held:
            if held is None or _used_since(entry):
                self.in_use.append(entry)
                return
            blob_goes = self._last_naming(entry, area)
            doomed = [*entry.paths, *([entry.blob] if blob_goes and entry.blob else [])]
            if not self.rule.dry_run:
                if not all(_delete(p) for p in doomed):
                    self.failed.append(entry)
                    return
                if entry.blob is None or blob_goes:
                    held.discard()
        freed = entry.size + (entry.blob_size if blob_goes else 0)
        self.removed.append(Removed(entry=entry, freed=freed))
        self.freed += freed
        self.total -= freed

    def _last_naming(self, entry: Entry, area: Path) -> bool:
        """`entry` is the last entry naming its blob, and no layer key written since the scan
        names it either."""
        if entry.blob is None:
            return False
        self.refs[entry.blob] -= 1
        return self.refs[entry.blob] <= 0 and not _named_since(
            area / "layers", entry.lock, self.scanned
        )


def _used_since(entry: Entry) -> bool:
    """A build used (or remade) the entry after the scan saw it."""
    marker = entry.holds
    try:
        return marker is not None and os.lstat(marker).st_mtime > entry.last_used
    except FileNotFoundError:
        return False


def _named_since(layers: Path, digest: str, since: float) -> bool:
    """A layer key written at or after `since` names the blob `digest` (hex)."""
    try:
        items = list(os.scandir(layers))
    except OSError:
        return False
    for item in items:
        try:
            if item.stat(follow_symlinks=False).st_mtime < since or item.is_symlink():
                continue
            record = json.loads(Path(item.path).read_bytes())
            if record["descriptor"]["digest"] == f"sha256:{digest}":
                return True
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return False


def _delete(path: Path) -> bool:
    """Remove a file, a link (not what it points to) or a folder (links inside it unfollowed);
    False when something of it could not be removed (a file the user cannot delete)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        return not os.path.lexists(path)
    return True


def prune_to_limit(root: Path, limit: int | None) -> Pruned | None:
    """After a build: the least recently used entries removed until the cache at `root` holds
    at most `limit` bytes; None without a limit. Cheap under the limit (one scan, nothing
    locked). A cache that cannot be written is left as it is (None)."""
    if limit is None:
        return None
    try:
        return prune(root, Rule(max_size=limit))
    except OSError:
        return None
