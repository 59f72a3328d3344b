"""Byte streams every image reader shares: hashing, chained, decompressing, bounded.

Nothing here writes to disk: an image is read as a stream, front to back, once (the
docker-archive reader, the inventory's sources and its layer walker).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

from imagekit.image.digest import Digest
from imagekit.image.errors import ContentMismatchError, OciError

CHUNK = 1 << 20
TAR_BUFSIZE = 32 << 10  # tarfile's stream buffer: larger makes its many small reads slower
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Errors a corrupt compressed stream raises from the standard library and the zstd bindings.
DECOMPRESS_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, ValueError)


class IterStream(io.RawIOBase):
    """A readable stream over an iterable of byte chunks (the Docker SDK's `save()`)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = bytes(chunk)
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class HashingReader(io.RawIOBase):
    """Reads through another stream, hashing and counting every byte that passes.

    `limit`: (most bytes, error): reading past that many raises the error, so a decompressing
    stream (a gzip bomb) stops there.
    """

    def __init__(
        self,
        stream: IO[bytes],
        algorithm: str = "sha256",
        *,
        limit: tuple[int, OciError] | None = None,
    ) -> None:
        self._stream = stream
        self._hash = hashlib.new(algorithm)
        self._limit = limit
        self.algorithm = algorithm
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        # Overridden (not just readinto) so tarfile's many small reads stay cheap.
        if self._limit is not None:  # never more than one byte past the limit per read
            left = self._limit[0] + 1 - self.size
            size = left if size is None or size < 0 else min(size, left)
        data = self._stream.read(size)
        self._hash.update(data)
        self.size += len(data)
        if self._limit is not None and self.size > self._limit[0]:
            raise self._limit[1]
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Read (and hash) whatever is left."""
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> Digest:
        return Digest(f"{self.algorithm}:{self._hash.hexdigest()}")

    def verify(self, expected: str, what: str, size: int | None = None) -> None:
        """Drain, then raise `ContentMismatchError` naming `what` if the digest or size
        differ."""
        self.drain()
        if self.digest != expected:
            raise ContentMismatchError(
                f"{what}: content has digest {self.digest}, expected {expected} "
                "(the blob is corrupt or was changed: fetch or export the image again)"
            )
        if size is not None and self.size != size:
            raise ContentMismatchError(f"{what}: {self.size} bytes, the manifest says {size}")


class _Prefixed(io.RawIOBase):
    """Bytes already read (to sniff a format), then the rest of the stream."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def sniff(stream: IO[bytes], size: int = 8) -> tuple[bytes, IO[bytes]]:
    """The first `size` bytes of a stream (fewer at its end), and a stream that still yields
    them: the same stream when it can peek, so no layer of buffering is added."""
    peek = getattr(stream, "peek", None)
    if peek is not None:
        head = bytes(peek(size))[:size]
        if len(head) == size or not head:  # a short peek may just be a buffer's end: read on
            return head, stream
    head = b""
    while len(head) < size:
        more = stream.read(size - len(head))
        if not more:
            break
        head += more
    return head, io.BufferedReader(_Prefixed(head, stream), CHUNK)


def _zstd_reader(stream: IO[bytes], what: str) -> IO[bytes]:
    """A zstd decompressing stream from whichever binding is installed."""
    try:
        zstandard: Any = importlib.import_module("zstandard")
    except ImportError:
        pass
    else:
        reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(stream, closefd=False)
        return reader
    for name in ("compression.zstd", "backports.zstd"):  # Python 3.14, and its backport
        try:
            module: Any = importlib.import_module(name)
        except ImportError:
            continue
        zstd_file: IO[bytes] = module.ZstdFile(stream)
        return zstd_file
    raise OciError(f"{what} is zstd-compressed: install `zstandard` to read it")


def decompressed(stream: IO[bytes], what: str) -> tuple[str, IO[bytes]]:
    """The compression the magic bytes show ("gzip", "zstd", "none") and the plain stream.

    Raises `OciError` for zstd when no zstd binding is installed.
    """
    head, stream = sniff(stream, 4)
    if head.startswith(GZIP_MAGIC):
        # GzipFile reads like any binary file; typeshed does not call it an IO[bytes].
        return "gzip", cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    if head.startswith(ZSTD_MAGIC):
        return "zstd", _zstd_reader(stream, what)
    return "none", stream


def read_at_most(stream: IO[bytes], limit: int) -> bytes | None:
    """All of a stream if it holds at most `limit` bytes, else None (the rest is left unread)."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(min(CHUNK, limit + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(parts)
