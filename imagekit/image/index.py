"""Following image indexes down to the image manifests they name, within bounds.

Nested image indexes are followed to `MAX_INDEX_DEPTH` levels, each index once however often
it is named (a layout of indexes that each name the next one twice would otherwise take
2^depth reads), and at most `MAX_DESCRIPTORS` descriptors are read from all of them together.
An OCI layout's index.json and a Docker 25+ archive's are walked alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imagekit.image.digest import Digest
from imagekit.image.errors import OciError
from imagekit.image.model import (
    ATTESTATION,
    INDEX_TYPES,
    REF_NAME,
    REFERENCE_TYPE,
    Descriptor,
    Index,
    parse_json,
)

# buildx and `docker save` nest one index in index.json (index.json -> index -> manifests).
MAX_INDEX_DEPTH = 8
# A multi-platform image names a dozen manifests and as many attestations.
MAX_DESCRIPTORS = 4096

BlobReader = Callable[[Descriptor], bytes | None]  # a blob's bytes, checked; None: not held


@dataclass(slots=True)
class _Walk:
    """What following the indexes of one image has seen so far."""

    where: str  # the layout or archive, for messages
    read: BlobReader
    found: dict[Digest, Descriptor] = field(default_factory=dict)  # manifests, in order
    expanded: set[Digest] = field(default_factory=set)  # the indexes already followed
    descriptors: int = 0


def image_manifests(
    index: dict[str, Any], where: str, read: BlobReader, *, ref_name: str | None = None
) -> list[Descriptor]:
    """The image manifests the top index (index.json) names, nested indexes flattened: each
    index followed once, to `MAX_INDEX_DEPTH` levels, `MAX_DESCRIPTORS` in all; attestation
    manifests left out. `ref_name` filters the top index's entries by their ref name; an
    index `read` does not hold (None) is passed over.

    Raises `OciError` (naming `where`) past a bound, or for a blob `read` cannot give.
    """
    walk = _Walk(where=where, read=read)
    _follow(index, "index.json", walk, 0, ref_name)
    return list(walk.found.values())


def _entries(index: dict[str, Any], name: str, walk: _Walk) -> tuple[Descriptor, ...]:
    """The index's entries, counted against `MAX_DESCRIPTORS` before any is parsed."""
    items = index.get("manifests")
    walk.descriptors += len(items) if isinstance(items, list) else 0
    if walk.descriptors > MAX_DESCRIPTORS:
        raise OciError(
            f"{walk.where}: its indexes name more than {MAX_DESCRIPTORS} descriptors "
            "(MAX_DESCRIPTORS); no real image has this many: it is malformed or hostile"
        )
    return Index.from_dict(index, name).manifests


def _follow(
    index: dict[str, Any], name: str, walk: _Walk, depth: int, ref_name: str | None
) -> None:
    for desc in _entries(index, name, walk):
        if depth == 0 and ref_name and desc.annotation(REF_NAME) != ref_name:
            continue
        if desc.media_type in INDEX_TYPES:
            _nested(desc, walk, depth)
        elif desc.annotation(REFERENCE_TYPE) != ATTESTATION:
            walk.found.setdefault(desc.digest, desc)


def _nested(desc: Descriptor, walk: _Walk, depth: int) -> None:
    if desc.digest in walk.expanded:
        return
    walk.expanded.add(desc.digest)
    if depth + 1 > MAX_INDEX_DEPTH:
        raise OciError(
            f"{walk.where}: image indexes nested deeper than {MAX_INDEX_DEPTH} levels "
            f"(MAX_INDEX_DEPTH) at index {desc.digest}; it is malformed or hostile"
        )
    data = walk.read(desc)
    if data is not None:
        name = f"index {desc.digest}"
        _follow(parse_json(data, name), name, walk, depth + 1, None)
