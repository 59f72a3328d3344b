"""`imagekit push`, `pull` and `attach`: images, and the documents about them, in registries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit import progress
from imagekit.cli._options import QuietOption
from imagekit.cli._output import err, handle_errors, out
from imagekit.registry.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_PLATFORM, TRANSFER_DEADLINE_S

if TYPE_CHECKING:
    from imagekit.registry import ClientOptions

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
    no_attach: Annotated[
        bool,
        typer.Option(
            "--no-attach",
            help="Do not attach the provenance and SBOM the build wrote beside an OCI layout.",
        ),
    ] = False,
) -> None:
    """Push an image to a registry; print its manifest digest.

    An OCI layout that `imagekit build` wrote (`<out>/oci`) gets the build's provenance and
    SBOM (`<out>/provenance.json`, `<out>/sbom.cdx.json`) attached in the registry, when they
    are about the image pushed."""
    from imagekit.registry import ClientOptions, push_image

    options = ClientOptions(chunk_size=chunk_size, deadline_s=deadline)
    with progress.shown(progress.Display(quiet=quiet)):
        result = push_image(source, reference, mount_from=mount_from, options=options)
    err(
        f"pushed {result.reference}: {len(result.uploaded)} blobs uploaded, "
        f"{len(result.mounted)} mounted, {len(result.existing)} already there"
    )
    out(result.digest)
    if not no_attach and Path(source).is_dir():
        _attach_build_documents(Path(source), str(result.reference), result.digest, options)


def _attach_build_documents(
    layout: Path, reference: str, digest: str, options: ClientOptions
) -> None:
    from imagekit.build.provenance import documents_beside

    found = documents_beside(layout, digest)
    if found.skipped:
        err(f"warning: not attached: {found.skipped}")
    for document in found.documents:
        _attach_one(reference, document, options)


def _attach_one(reference: str, document: Path, options: ClientOptions) -> str:
    """Attach `document`, say so on stderr; returns the artifact's manifest digest."""
    from imagekit.registry.referrers import attach as attach_document
    from imagekit.registry.referrers import referrers_tag

    attached = attach_document(reference, document, options=options)
    listed = "the referrers API" if attached.via_api else f"tag {referrers_tag(attached.subject)}"
    err(
        f"attached {document.name} ({attached.kind}) to {attached.subject} as "
        f"{attached.digest}, listed by {listed}"
    )
    return attached.digest


@handle_errors
def attach(
    reference: Annotated[
        str,
        typer.Argument(help="The image in its registry: REGISTRY/REPOSITORY:TAG or @DIGEST."),
    ],
    documents: Annotated[
        list[Path],
        typer.Argument(
            help="CycloneDX or SPDX JSON SBOMs, or in-toto statements (provenance.json).",
            exists=True,
            dir_okay=False,
        ),
    ],
    deadline: Annotated[
        float, typer.Option("--deadline", min=0.001, help=_DEADLINE_HELP)
    ] = TRANSFER_DEADLINE_S,
) -> None:
    """Attach SBOMs and provenance to an image in its registry.

    Each document goes up as an OCI artifact whose subject is the image; each artifact's
    manifest digest is printed."""
    from imagekit.registry import ClientOptions

    options = ClientOptions(deadline_s=deadline)
    for document in documents:
        out(_attach_one(reference, document, options))


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


def write_attached_sbom(reference: str, output: Path | None) -> None:
    """`imagekit sbom --from-registry`: write the CycloneDX SBOM attached to `reference` to
    `output`, or to stdout, verified by its digest."""
    import tempfile

    from imagekit.registry.referrers import ArtifactKind, fetch_document

    kinds = frozenset({ArtifactKind.CYCLONEDX})
    if output is not None:
        found = fetch_document(reference, kinds, output)
        err(f"wrote {output}: the SBOM attached to {reference} ({found.subject}) as {found.digest}")
        return
    with tempfile.TemporaryDirectory(prefix="imagekit-sbom-") as tmp:
        path = Path(tmp) / "sbom.cdx.json"
        fetch_document(reference, kinds, path)
        typer.echo(path.read_bytes(), nl=False)
