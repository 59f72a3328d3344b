"""A TCP proxy in front of a real registry that drops the connection once, mid-transfer.

Everything passes through unchanged until `drop_after` bytes have gone the watched way
(client to registry for uploads, registry to client for downloads); then both sockets are
closed at once, as a lost network does it, and every later connection passes untouched.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

_CHUNK = 16 << 10


@dataclass
class DroppingProxy:
    upstream: tuple[str, int]
    drop_after: int
    upload: bool  # watch client -> registry (True) or registry -> client (False)
    address: str = ""
    dropped: threading.Event = field(default_factory=threading.Event)
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, size: int) -> bool:
        """Count `size` bytes the watched way; True when the connection is to drop now."""
        with self._lock:
            if self.dropped.is_set():
                return False
            self._seen += size
            if self._seen > self.drop_after:
                self.dropped.set()
                return True
            return False

    def _pipe(self, src: socket.socket, dst: socket.socket, watched: bool) -> None:
        with suppress(OSError):
            while data := src.recv(_CHUNK):
                if watched and self._count(len(data)):
                    break
                dst.sendall(data)
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def serve(self, listener: socket.socket) -> None:
        with suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection(self.upstream, timeout=30)
                for src, dst, watched in ((client, server, self.upload),
                                          (server, client, not self.upload)):  # fmt: skip
                    threading.Thread(
                        target=self._pipe, args=(src, dst, watched), daemon=True
                    ).start()


@contextmanager
def dropping_proxy(registry: str, *, drop_after: int, upload: bool) -> Iterator[DroppingProxy]:
    """A proxy on a free loopback port in front of `registry` (host:port)."""
    host, _, port = registry.rpartition(":")
    proxy = DroppingProxy(upstream=(host, int(port)), drop_after=drop_after, upload=upload)
    listener = socket.create_server(("127.0.0.1", 0))
    proxy.address = f"127.0.0.1:{listener.getsockname()[1]}"
    thread = threading.Thread(target=proxy.serve, args=(listener,), daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        listener.close()
        thread.join(timeout=5)
