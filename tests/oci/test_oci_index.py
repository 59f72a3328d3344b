"""Following nested image indexes: each once, attestations left out, within bounds."""

from __future__ import annotations

import json

import pytest

from imagekit.image.digest import digest_of
from imagekit.image.errors import OciError
from imagekit.image.index import MAX_INDEX_DEPTH, image_manifests
from imagekit.image.model import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Descriptor

IMAGE = {"mediaType": MANIFEST_MEDIA_TYPE, "digest": "sha256:" + "1" * 64, "size": 1}
ATTESTATION = {
    "mediaType": MANIFEST_MEDIA_TYPE,
    "digest": "sha256:" + "2" * 64,
    "size": 1,
    "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
}


def _index_entry(data: bytes) -> dict[str, object]:
    return {"mediaType": INDEX_MEDIA_TYPE, "digest": digest_of(data), "size": len(data)}


def test_a_nested_index_named_twice_is_read_once_and_attestations_are_left_out() -> None:
    nested = json.dumps({"manifests": [IMAGE, ATTESTATION]}).encode()
    reads: list[Descriptor] = []

    def read(desc: Descriptor) -> bytes:
        reads.append(desc)
        return nested

    top = {"manifests": [_index_entry(nested), _index_entry(nested)]}
    found = image_manifests(top, "layout", read)
    assert [d.digest for d in found] == [IMAGE["digest"]]
    assert len(reads) == 1


def test_an_index_that_is_not_held_is_passed_over() -> None:
    top = {"manifests": [_index_entry(b"{}"), IMAGE]}
    assert [d.digest for d in image_manifests(top, "archive", lambda _: None)] == [IMAGE["digest"]]


def test_indexes_nested_past_the_bound_are_refused() -> None:
    chain = [json.dumps({"manifests": [IMAGE]}).encode()]
    for _ in range(MAX_INDEX_DEPTH):
        chain.append(json.dumps({"manifests": [_index_entry(chain[-1])]}).encode())
    blobs = {digest_of(data): data for data in chain}
    top = {"manifests": [_index_entry(chain[-1])]}
    with pytest.raises(OciError, match=r"^layout: image indexes nested deeper than 8 levels"):
        image_manifests(top, "layout", lambda desc: blobs.get(desc.digest))
    one_less = {"manifests": [_index_entry(chain[-2])]}
    assert len(image_manifests(one_less, "layout", lambda desc: blobs.get(desc.digest))) == 1
