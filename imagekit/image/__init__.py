"""The OCI image format, once: digests, descriptors, manifests, config, layouts, docker-archives.

`digest` parses and computes content digests; `model` holds the frozen values (platform,
descriptor, manifest, index, image config) and the media types; `layout` reads and writes OCI
image layouts; `archive` reads and writes docker-archives (`docker save`). Every error is an
`OciError`.
"""

from imagekit.image.digest import Digest, digest_of, file_digest, parse_digest
from imagekit.image.errors import ContentMismatchError, OciError
from imagekit.image.model import (
    Compression,
    Descriptor,
    History,
    Image,
    ImageConfig,
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
