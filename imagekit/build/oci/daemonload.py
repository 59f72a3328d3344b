"""An image of an OCI layout put into a Docker daemon, sending only the layers it lacks.

A rebuild after an app edit changes its top layers; the daemon holds the rest already (in the
image the same tag named before, or in the base). The archive sent then carries the new
layers' blobs alone, streamed as it is written: no archive file on disk. An image the daemon
holds whole (the same config digest) is only tagged. Whatever is sent, the daemon's image is
checked afterwards to be this one: its id is the config's digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from imagekit.cache.sizes import format_size
from imagekit.image.archive import archive_tree, stream_into_daemon
from imagekit.image.errors import OciError
from imagekit.image.model import Image

BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"
# Images on the same base looked at for shared layers: each is one inspect (milliseconds).
_LOOKED_AT = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    """What a load sent: `sent` of the image's layers, `bytes_sent` of their blobs."""

    image_id: str  # the daemon's id: the config digest
    sent: int
    layers: int
    bytes_sent: int
    size: int  # unpacked, as the daemon reports it


def load_image(
    client: docker.DockerClient,
    layout: Path,
    image: Image,
    tag: str,
    *,
    mtime: int,
    known: Iterable[str] = (),
    progress: Callable[[str], None],
) -> Loaded:
    """Put `image` (blobs in `layout`) into the daemon as `tag`; `known`: other references
    whose layers the daemon may share with it (the base's tag), besides `tag` itself.

    Raises `OciError` with the daemon's message, or when the daemon's image is not `image`.
    """
    config = str(image.manifest.config.digest)
    layers = len(image.layers)
    if _inspect(client, config) is not None:
        _tag(client, config, tag)
        progress(f"{tag}: already in the Docker daemon, tagged")
        return _checked(client, tag, config, sent=0, layers=layers, bytes_sent=0)
    refs = (tag, *known, *_same_base(client, image))
    present = present_layers(client, [x.diff_id for x in image.layers], refs)
    sent = _send(client, layout, image, tag, mtime=mtime, present=present, progress=progress)
    if sent is None:  # the daemon lost a layer it was found to hold: send them all
        progress("the Docker daemon lacks layers it was found to hold; sending every layer")
        present = 0
        _send(client, layout, image, tag, mtime=mtime, present=0, progress=progress, last=True)
    bytes_sent = sum(x.descriptor.size for x in image.layers[present:])
    return _checked(
        client, tag, config, sent=layers - present, layers=layers, bytes_sent=bytes_sent
    )


def present_layers(
    client: docker.DockerClient, diff_ids: Sequence[str], refs: Iterable[str]
) -> int:
    """How many of `diff_ids`' first layers the daemon holds, as the images `refs` name show."""
    best = 0
    for ref in dict.fromkeys(refs):
        attrs = _inspect(client, ref)
        if attrs is None:
            continue
        theirs = attrs.get("RootFS", {}).get("Layers") or []
        shared = 0
        for ours, held in zip(diff_ids, theirs, strict=False):
            if ours != held:
                break
            shared += 1
        best = max(best, shared)
    return best


def _same_base(client: docker.DockerClient, image: Image) -> list[str]:
    """The daemon's newest images on the same base (by its label), which likely share more
    than the base with `image`: an earlier build of the model, a model with the same wheels."""
    base = dict(image.config.labels).get(BASE_DIGEST_LABEL)
    if not base:
        return []
    try:
        found = client.api.images(filters={"label": f"{BASE_DIGEST_LABEL}={base}"})
    except docker.errors.APIError as e:
        raise OciError(f"the Docker daemon cannot list its images: {e.explanation}") from e
    newest = sorted(found, key=lambda x: int(x.get("Created", 0)), reverse=True)
    return [str(x["Id"]) for x in newest[:_LOOKED_AT]]


def _send(
    client: docker.DockerClient,
    layout: Path,
    image: Image,
    tag: str,
    *,
    mtime: int,
    present: int,
    progress: Callable[[str], None],
    last: bool = False,
) -> int | None:
    """Stream the archive of the layers after the first `present`; None when the daemon
    refused an archive without all the blobs (raises `OciError` for any other refusal)."""
    missing = image.layers[present:]
    size = sum(x.descriptor.size for x in missing)
    progress(
        f"loading {tag} into the Docker daemon: {len(missing)} of {len(image.layers)} "
        f"layers, {format_size(size)}"
    )
    tree = archive_tree(layout, image, tag, mtime=mtime, present=present)
    try:
        stream_into_daemon(client, tree, mtime=mtime)
    except OciError:
        if present == 0 or last:
            raise
        return None
    return len(missing)


def _checked(client: docker.DockerClient, tag: str, config: str, **counts: int) -> Loaded:
    attrs = _inspect(client, tag)
    found = "" if attrs is None else str(attrs.get("Id", ""))
    if found != config:
        raise OciError(
            f"the Docker daemon's {tag} is {found or 'missing'} after the load, not {config}: "
            "another build replaced it meanwhile; build again"
        )
    return Loaded(image_id=config, size=int(attrs.get("Size", 0)) if attrs else 0, **counts)


def _inspect(client: docker.DockerClient, ref: str) -> dict[str, Any] | None:
    try:
        attrs: dict[str, Any] = client.images.get(ref).attrs
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as e:
        raise OciError(f"the Docker daemon cannot show {ref}: {e.explanation}") from e
    return attrs


def _tag(client: docker.DockerClient, image_id: str, tag: str) -> None:
    repository, _, version = tag.rpartition(":")
    try:
        client.api.tag(image_id, repository, version, force=True)
    except docker.errors.APIError as e:
        raise OciError(f"tagging {tag} in the Docker daemon failed: {e.explanation}") from e
