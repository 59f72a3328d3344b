"""Content digests: the one parser, and the one sha256 of bytes, a stream or a file.

An OCI digest is `<algorithm>:<hex>`. imagekit writes and pulls sha256 only; reading a layout
or archive someone else made, sha512 is accepted too (`READ_ALGORITHMS`), as the spec allows.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import IO, NewType

from imagekit.image.errors import OciError
from imagekit.limits import shown

Digest = NewType("Digest", str)  # "sha256:" and 64 lower-case hex digits (or sha512: and 128)

CHUNK = 1 << 20
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_DIGEST = re.compile(r"(?P<algorithm>[a-z0-9]+):(?P<hex>[0-9a-f]+)")
SHA256 = frozenset({"sha256"})
READ_ALGORITHMS = frozenset(_HEX_LENGTH)


def parse_digest(value: object, where: str, *, algorithms: frozenset[str] = SHA256) -> Digest:
    """`value` as a `Digest` of one of `algorithms`; raises `OciError` naming `where`."""
    match = _DIGEST.fullmatch(value) if isinstance(value, str) else None
    algorithm = match["algorithm"] if match else ""
    if match is None or algorithm not in algorithms or len(match["hex"]) != _HEX_LENGTH[algorithm]:
        also = ", or sha512: and 128" if "sha512" in algorithms else ""
        raise OciError(
            f"{where}: {shown(repr(value))} is not a sha256 digest (sha256: and 64 lower-case "
            f"hex digits{also})"
        )
    return Digest(match.string)


def split_digest(digest: Digest) -> tuple[str, str]:
    """The algorithm and the hex digits of a parsed digest."""
    algorithm, _, hexdigest = digest.partition(":")
    return algorithm, hexdigest


def digest_of(data: bytes) -> Digest:
    """The sha256 digest of `data`."""
    return Digest(f"sha256:{hashlib.sha256(data).hexdigest()}")


def stream_digest(stream: IO[bytes]) -> tuple[Digest, int]:
    """The sha256 digest of what is left of `stream`, and its size, read in chunks."""
    hasher, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return Digest(f"sha256:{hasher.hexdigest()}"), size


def sha256_file(path: Path) -> str:
    """The sha256 hex digits of the file at `path`, as lockfiles, SBOMs and golden files write
    them; raises `OSError` when it cannot be read."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_digest(path: Path) -> Digest:
    """The sha256 digest of the file at `path`; raises `OSError` when it cannot be read."""
    return Digest(f"sha256:{sha256_file(path)}")


def file_state(path: Path) -> str:
    """What changes when a file is rewritten, truncated or replaced: its size, mtime and
    inode, as text (`"<size> <mtime ns> <inode> <device>"`). Not its ctime: a hard link to the
    file, which every build makes of a cached wheel, moves it. A file whose state is what it was
    when it last hashed to its digest need not be hashed again. Raises `OSError`."""
    info = path.stat()
    return f"{info.st_size} {info.st_mtime_ns} {info.st_ino} {info.st_dev}"
