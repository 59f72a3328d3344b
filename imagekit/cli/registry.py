"""`imagekit push` and `imagekit pull`: images to and from OCI registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._output import err, handle_errors, out
from imagekit.registry import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_PLATFORM,
    ClientOptions,
    pull_to_layout,
    push_image,
)


@handle_errors
def push(
    source: Annotated[
        str,
        typer.Argument(
            help="An OCI image layout folder, a docker-archive tarball (docker save), or the "
            "name of an image in the Docker daemon at DOCKER_HOST."
        ),
    ],
    reference: Annotated[
        str,
        typer.Argument(
            help="Where to push: REGISTRY/REPOSITORY:TAG, e.g. localhost:5000/models/iris:1.0."
        ),
    ],
    mount_from: Annotated[
        str | None,
        typer.Option(
            "--mount-from",
            help="A repository on the same registry to mount blobs from instead of uploading.",
        ),
    ] = None,
    chunk_size: Annotated[
        int,
        typer.Option(
            "--chunk-size", min=1, help="Upload blobs larger than this many bytes in chunks."
        ),
    ] = DEFAULT_CHUNK_SIZE,
) -> None:
    """Push an image to a registry; print its manifest digest."""
    result = push_image(
        source, reference, mount_from=mount_from, options=ClientOptions(chunk_size=chunk_size)
    )
    err(
        f"pushed {result.reference}: {len(result.uploaded)} blobs uploaded, "
        f"{len(result.mounted)} mounted, {len(result.existing)} already there"
    )
    out(result.digest)


@handle_errors
def pull(
    reference: Annotated[
        str,
        typer.Argument(
            help="What to pull: REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="The OCI image layout folder to create."),
    ],
    platform: Annotated[
        str, typer.Option(help="The platform to take from a multi-platform image.")
    ] = DEFAULT_PLATFORM,
) -> None:
    """Pull an image into a new OCI image layout folder; print its manifest digest."""
    digest = pull_to_layout(reference, output, platform)
    err(f"pulled {reference} into {output}")
    out(digest)
