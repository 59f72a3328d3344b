"""The registry client's defaults, apart from the client (http.client, ssl): the CLI shows them
in `imagekit push --help` and `pull --help` without loading it."""

from __future__ import annotations

DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024  # larger blobs go up in chunks of this size
DEFAULT_PLATFORM = "linux/amd64"
# A manifest, token or error answer is at most _MAX_BODY (4 MiB): even a slow link carries it in
# seconds, so five minutes means the registry has stalled.
DOCUMENT_DEADLINE_S = 300.0
# One blob download or one upload request (a whole blob up to the chunk size, or one chunk):
# a 10 GB CUDA layer at 5 MB/s takes about half an hour; an hour leaves room for slower links.
TRANSFER_DEADLINE_S = 3600.0
