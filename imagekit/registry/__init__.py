"""A small OCI distribution client: push OCI image layouts to registries and pull them back.

Speaks the registry HTTP API v2 with the standard library: anonymous, basic and bearer-token
auth; blob existence checks, cross-repository mounts, chunked uploads; every manifest and
blob verified against its sha256 digest. The image format itself (digests, descriptors,
manifests, layouts) is `imagekit.image`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.lazy import lazy_exports

if TYPE_CHECKING:
    from imagekit.registry.auth import Credentials, find_credentials
    from imagekit.registry.client import ClientOptions, FetchedManifest, RegistryClient, Transfer
    from imagekit.registry.defaults import (
        DEFAULT_CHUNK_SIZE,
        DEFAULT_PLATFORM,
        DOCUMENT_DEADLINE_S,
        TRANSFER_DEADLINE_S,
    )
    from imagekit.registry.errors import (
        DigestMismatchError,
        InvalidReferenceError,
        LayoutError,
        LayoutWriteError,
        ManifestError,
        RegistryAuthError,
        RegistryError,
        RegistryResponseError,
        RegistryUnreachableError,
    )
    from imagekit.registry.pull import pull_to_layout
    from imagekit.registry.push import PushResult, push_layout
    from imagekit.registry.reference import Reference, parse_reference
    from imagekit.registry.session import Exchange, Observer
    from imagekit.registry.source import push_image

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_PLATFORM",
    "DOCUMENT_DEADLINE_S",
    "TRANSFER_DEADLINE_S",
    "ClientOptions",
    "Credentials",
    "DigestMismatchError",
    "Exchange",
    "FetchedManifest",
    "InvalidReferenceError",
    "LayoutError",
    "LayoutWriteError",
    "ManifestError",
    "Observer",
    "PushResult",
    "Reference",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryResponseError",
    "RegistryUnreachableError",
    "Transfer",
    "find_credentials",
    "parse_reference",
    "pull_to_layout",
    "push_image",
    "push_layout",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "auth": (
            "Credentials",
            "find_credentials",
        ),
        "client": (
            "ClientOptions",
            "FetchedManifest",
            "RegistryClient",
            "Transfer",
        ),
        "defaults": (
            "DEFAULT_CHUNK_SIZE",
            "DEFAULT_PLATFORM",
            "DOCUMENT_DEADLINE_S",
            "TRANSFER_DEADLINE_S",
        ),
        "errors": (
            "DigestMismatchError",
            "InvalidReferenceError",
            "LayoutError",
            "LayoutWriteError",
            "ManifestError",
            "RegistryAuthError",
            "RegistryError",
            "RegistryResponseError",
            "RegistryUnreachableError",
        ),
        "pull": ("pull_to_layout",),
        "push": (
            "PushResult",
            "push_layout",
        ),
        "reference": (
            "Reference",
            "parse_reference",
        ),
        "session": (
            "Exchange",
            "Observer",
        ),
        "source": ("push_image",),
    },
)
