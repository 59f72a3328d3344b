"""The OCI image format, once: digests, descriptors, manifests, config, layouts, docker-archives.

`digest` parses and computes content digests; `model` holds the frozen values (platform,
descriptor, manifest, index, image) and the media types, `config` the typed image config;
`index` follows nested indexes within bounds; `layout` reads and writes OCI image layouts;
`archive_reader` is the one (streaming) docker-archive reader, `archive` writes docker-archives
and turns them (or a daemon's image) into layouts; `streams`, `compress` and `tarlayer` are the
hashed, bounded and deterministic byte streams beneath. Every error is an `OciError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.lazy import lazy_exports

if TYPE_CHECKING:
    from imagekit.image.config import History, ImageConfig
    from imagekit.image.digest import Digest, digest_of, file_digest, parse_digest
    from imagekit.image.errors import ContentMismatchError, OciError
    from imagekit.image.model import (
        Compression,
        Descriptor,
        Image,
        Index,
        LayerBlob,
        Manifest,
        Platform,
        parse_manifest,
    )

__all__ = [
    "Compression",
    "ContentMismatchError",
    "Descriptor",
    "Digest",
    "History",
    "Image",
    "ImageConfig",
    "Index",
    "LayerBlob",
    "Manifest",
    "OciError",
    "Platform",
    "digest_of",
    "file_digest",
    "parse_digest",
    "parse_manifest",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "config": ("History", "ImageConfig"),
        "digest": ("Digest", "digest_of", "file_digest", "parse_digest"),
        "errors": ("ContentMismatchError", "OciError"),
        "model": (
            "Compression",
            "Descriptor",
            "Image",
            "Index",
            "LayerBlob",
            "Manifest",
            "Platform",
            "parse_manifest",
        ),
    },
)
