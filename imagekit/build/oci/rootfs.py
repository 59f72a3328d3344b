"""What a base image's file system holds that model layers build on: the account files, dpkg's
status database, and its symlinks (a merged-/usr Debian's /lib is a link to usr/lib, which a
.deb's paths must follow). Read once per base from its layers (whiteouts applied) and cached
by the base's manifest digest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from imagekit.cache.lock import touch
from imagekit.errors import InputError
from imagekit.fsio import write_text
from imagekit.image.compress import open_layer
from imagekit.image.errors import OciError
from imagekit.image.layout import blob_path
from imagekit.image.model import Image
from imagekit.image.tarlayer import iter_members
from imagekit.limits import load_json, shown

FACT_FILES = ("etc/group", "etc/passwd", "var/lib/dpkg/status")
FACTS_REVISION = 1
_WHITEOUT = ".wh."
_MAX_LINKS = 40
# The largest fact file is dpkg's status: about 0.9 kB per package (670 kB for 729 packages on
# Debian 12), a few MB for the largest real installs.
MAX_FACT_FILE = 32 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseFacts:
    files: tuple[tuple[str, str], ...]  # FACT_FILES present in the base, as text
    symlinks: tuple[tuple[str, str], ...]  # path -> target, of every symlink in the base

    def file(self, path: str) -> str:
        return dict(self.files).get(path, "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": FACTS_REVISION,
            "files": dict(self.files),
            "symlinks": dict(self.symlinks),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BaseFacts:
        return cls(
            files=tuple(sorted(d["files"].items())), symlinks=tuple(sorted(d["symlinks"].items()))
        )

    def resolve(self, path: str, *, follow_last: bool = False) -> str:
        """`path` with every directory component that is a symlink in the base followed (and
        the last component too with `follow_last`: a directory)."""
        links = dict(self.symlinks)
        parts = path.split("/")
        done: list[str] = []
        hops = 0
        while len(parts) > (0 if follow_last else 1):
            head = "/".join([*done, parts[0]])
            target = links.get(head)
            if target is None:
                done.append(parts.pop(0))
                continue
            hops += 1
            if hops > _MAX_LINKS:
                raise OciError(f"{path}: too many levels of symlinks in the base")
            base = [] if target.startswith("/") else done
            parts = [p for p in [*base, *target.split("/"), *parts[1:]] if p not in ("", ".")]
            done = []
            parts = _collapse(parts)
        return "/".join([*done, *parts])


def _collapse(parts: list[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        else:
            out.append(part)
    return out


def _apply_layer(blob: Path, media_type: str, files: dict[str, str], links: dict[str, str]) -> None:
    where = str(blob)
    with open_layer(blob, media_type) as stream:
        for tar, member in iter_members(stream, where):
            name = member.name.removeprefix("./").rstrip("/")
            folder, _, base = name.rpartition("/")
            if base.startswith(_WHITEOUT):
                gone = f"{folder}/{base.removeprefix(_WHITEOUT)}".lstrip("/")
                for table in (files, links):
                    for key in [k for k in table if k == gone or k.startswith(gone + "/")]:
                        del table[key]
                continue
            links.pop(name, None)
            if member.issym():
                links[name] = member.linkname
            elif name in FACT_FILES and member.isfile():
                files[name] = _fact_text(tar.extractfile(member), member.size, f"{where}: {name}")


def _fact_text(content: IO[bytes] | None, size: int, where: str) -> str:
    """A fact file's text; raises `OciError` if it is larger than any real one or not UTF-8."""
    if size > MAX_FACT_FILE:
        raise OciError(f"{where}: {size} bytes, more than {MAX_FACT_FILE}; the base is malformed")
    try:
        return content.read().decode("utf-8") if content else ""
    except UnicodeDecodeError as e:
        raise OciError(f"{where}: not UTF-8 ({shown(e)}); the base is malformed") from e


def read_facts(layout: Path, image: Image) -> BaseFacts:
    """The facts of `image` in `layout`, from each layer in order; raises `OciError` for a
    corrupt layer (not gzip, truncated)."""
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for layer in image.layers:
        blob = blob_path(layout, layer.descriptor.digest)
        _apply_layer(blob, layer.descriptor.media_type, files, links)
    return BaseFacts(files=tuple(sorted(files.items())), symlinks=tuple(sorted(links.items())))


def base_facts(layout: Path, image: Image, cache: Path) -> BaseFacts:
    """`read_facts`, cached in `cache` by the image's manifest digest."""
    path = cache / f"{image.manifest_digest.removeprefix('sha256:')}.json"
    try:
        data = load_json(path.read_bytes(), path)
        if data.get("revision") == FACTS_REVISION:
            touch(path)  # the recency `imagekit cache prune` goes by
            return BaseFacts.from_dict(data)
    except (OSError, InputError, KeyError, AttributeError):
        pass  # absent or unreadable: read the layers again
    facts = read_facts(layout, image)
    cache.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(facts.to_dict(), sort_keys=True))
    return facts
