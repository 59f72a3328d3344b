"""Layer blobs: a tar stream compressed and hashed on its way to disk, and read back.

gzip is written with a fixed header (no name, mtime 0, OS "unknown") and a fixed level, by
ISA-L's igzip (the `isal` package) rather than zlib: on a torch layer here, level 3 deflates at
131 MB/s a core against zlib level 1's 35 MB/s, into 0.57 of the tar against 0.67. Its deflate
stream is made of 1 MiB blocks compressed on every core (each with the previous block's last
32 KiB as its dictionary and ended by a sync flush, as pigz does): the bytes depend on the input
and the isal version alone, never on the number of threads; any inflater reads them. zstd
(when `zstandard` is importable) runs in zstd's multithreaded streaming mode with one worker per
core: its output is the same for any number of workers from one up (facebook/zstd issue 2327;
tests/cli-tests/determinism in the zstd repository), and differs from the single-threaded
mode's, so the mode is fixed, not the count.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Protocol, assert_never, cast

import isal
from isal import isal_zlib

from imagekit import progress
from imagekit.fsio import staged_file
from imagekit.image.digest import Digest
from imagekit.image.errors import OciError
from imagekit.image.model import Compression, Descriptor, LayerBlob

GZIP_LEVEL = 3  # isal's highest: still four times zlib level 1's speed
# Part of the layer cache key: the deflate implementation and its version decide the bytes.
GZIP_ENGINE = f"isal {isal.__version__}"
ZSTD_LEVEL = 3
ZSTD_MODE = "multithreaded"  # part of the layer cache key: the mode decides the bytes
BLOCK = 1 << 20
_WINDOW = 32 << 10
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no flags, mtime 0, OS unknown


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


def _deflate(block: bytes, window: bytes, last: bool) -> bytes:
    if window:
        c = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, -15, zdict=window)
    else:
        c = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, -15)
    return c.compress(block) + c.flush(isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH)


class _Gzip:
    """gzip in fixed blocks on a thread pool (isal lets go of the GIL while it works)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.pending: deque[Future[bytes]] = deque()
        self.buffer = bytearray()
        self.window = b""
        self.crc = 0
        self.size = 0
        self.header = _GZIP_HEADER

    def _submit(self, block: bytes, last: bool) -> None:
        self.pending.append(self.pool.submit(_deflate, block, self.window, last))
        self.window = block[-_WINDOW:]

    def _ready(self, limit: int) -> bytes:
        out = [self.header]
        self.header = b""
        while len(self.pending) > limit or (self.pending and self.pending[0].done()):
            out.append(self.pending.popleft().result())
        return b"".join(out)

    def compress(self, data: bytes, /) -> bytes:
        self.crc = isal_zlib.crc32(data, self.crc)
        self.size += len(data)
        self.buffer += data
        while len(self.buffer) >= BLOCK:
            self._submit(bytes(self.buffer[:BLOCK]), last=False)
            del self.buffer[:BLOCK]
        return self._ready(2 * (os.cpu_count() or 1))

    def flush(self) -> bytes:
        self._submit(bytes(self.buffer), last=True)
        self.buffer.clear()
        trailer = self.crc.to_bytes(4, "little") + (self.size & 0xFFFFFFFF).to_bytes(4, "little")
        return self._ready(0) + trailer


def _zstandard() -> Any:
    try:
        return importlib.import_module("zstandard")
    except ImportError as e:
        raise OciError(
            "zstd layers need the zstandard package: pip install zstandard, or use gzip"
        ) from e


def zstd_compressor(workers: int) -> _Compressor:
    """zstd at ZSTD_LEVEL in its multithreaded mode; the bytes do not depend on `workers`."""
    zstd = _zstandard()
    compressor: _Compressor = zstd.ZstdCompressor(
        level=ZSTD_LEVEL, threads=max(1, workers)
    ).compressobj()
    return compressor


def _compressor(compression: Compression, pool: ThreadPoolExecutor) -> _Compressor:
    match compression:
        case Compression.GZIP:
            return _Gzip(pool)
        case Compression.ZSTD:
            return zstd_compressor(os.cpu_count() or 1)
        case _:
            assert_never(compression)


class _HashingWriter(io.RawIOBase):
    """Hashes what is written, compresses it, hashes and writes the compressed bytes."""

    def __init__(self, out: IO[bytes], compressor: _Compressor) -> None:
        self.out = out
        self.compressor = compressor
        self.diff = hashlib.sha256()
        self.blob = hashlib.sha256()
        self.size = 0
        self.written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:  # tarfile asks where it is
        return self.written

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.diff.update(chunk)
        self.written += len(chunk)
        progress.advance(len(chunk))
        self._emit(self.compressor.compress(chunk))
        return len(chunk)

    def _emit(self, compressed: bytes) -> None:
        if compressed:
            self.blob.update(compressed)
            self.out.write(compressed)
            self.size += len(compressed)

    def finish(self) -> None:
        self._emit(self.compressor.flush())


def write_blob(
    blobs: Path, compression: Compression, fill: Callable[[IO[bytes]], None]
) -> LayerBlob:
    """A layer blob in `blobs`, named by its digest, of what `fill` writes (uncompressed).

    An interrupted write leaves no blob behind.
    """
    blobs.mkdir(parents=True, exist_ok=True)
    with (
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
        staged_file(blobs, ".layer-") as staged,  # a killed writer's file goes with the next
    ):
        writer = _HashingWriter(staged.file, _compressor(compression, pool))
        buffered = io.BufferedWriter(writer, BLOCK)  # compress in large chunks
        fill(buffered)
        buffered.flush()
        writer.finish()
        digest = Digest(f"sha256:{writer.blob.hexdigest()}")
        staged.publish(blobs / digest.removeprefix("sha256:"), mode=0o644)  # while locked
    descriptor = Descriptor(media_type=compression.media_type, digest=digest, size=writer.size)
    return LayerBlob(descriptor=descriptor, diff_id=Digest(f"sha256:{writer.diff.hexdigest()}"))


def compress_tar(stream: IO[bytes], blobs: Path, *, compression: Compression) -> LayerBlob:
    """An uncompressed layer tar stream, compressed as it is into a blob in `blobs`."""

    def copy(writer: IO[bytes]) -> None:
        while chunk := stream.read(BLOCK):
            writer.write(chunk)

    return write_blob(blobs, compression, copy)


def open_layer(path: Path, media_type: str) -> IO[bytes]:
    """The uncompressed tar stream of a layer blob (gzip, zstd or plain by its media type)."""
    if media_type.endswith("+zstd"):
        reader: IO[bytes] = _zstandard().ZstdDecompressor().stream_reader(path.open("rb"))
        return reader
    with path.open("rb") as f:
        magic = f.read(2)
    if media_type.endswith("+gzip") or magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")
