"""`imagekit push` and `imagekit pull`: images to and from OCI registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit import progress
from imagekit.cli._options import QuietOption
from imagekit.cli._output import err, handle_errors, out
from imagekit.registry.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_PLATFORM, TRANSFER_DEADLINE_S

_DEADLINE_HELP = "Give up on a registry exchange (one blob, or a manifest) after this many seconds."


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
            metavar="REPOSITORY",
            help="A repository on the same registry to mount blobs from instead of uploading.",
        ),
    ] = None,
    chunk_size: Annotated[
        int,
        typer.Option(
            "--chunk-size",
            min=1,
            metavar="BYTES",
            help="Upload blobs larger than this many bytes in chunks.",
        ),
    ] = DEFAULT_CHUNK_SIZE,
    deadline: Annotated[
        float, typer.Option("--deadline", min=0.001, metavar="SECONDS", help=_DEADLINE_HELP)
    ] = TRANSFER_DEADLINE_S,
    quiet: QuietOption = False,
) -> None:
    """Push an image to a registry; print its manifest digest."""
    from imagekit.registry import ClientOptions, push_image

    options = ClientOptions(chunk_size=chunk_size, deadline_s=deadline)
    with progress.shown(progress.Display(quiet=quiet)):
        result = push_image(source, reference, mount_from=mount_from, options=options)
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
        typer.Option(
            "-o", "--output", metavar="DIR", help="The OCI image layout folder to create."
        ),
    ],
    platform: Annotated[
        str,
        typer.Option(metavar="OS/ARCH", help="The platform to take from a multi-platform image."),
    ] = DEFAULT_PLATFORM,
    deadline: Annotated[
        float, typer.Option("--deadline", min=0.001, metavar="SECONDS", help=_DEADLINE_HELP)
    ] = TRANSFER_DEADLINE_S,
    quiet: QuietOption = False,
) -> None:
    """Pull an image into a new OCI image layout folder.

    Print its manifest digest on stdout."""
    from imagekit.registry import ClientOptions, pull_to_layout

    options = ClientOptions(deadline_s=deadline)
    with progress.shown(progress.Display(quiet=quiet)):
        digest = pull_to_layout(reference, output, platform, options=options)
    err(f"pulled {reference} into {output} (an OCI layout: podman run --rm oci:{output})")
    out(digest)
