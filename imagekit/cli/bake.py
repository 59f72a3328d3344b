"""`imagekit bake`: a docker buildx bake file for every model under a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._options import CatalogOption, load_catalog
from imagekit.cli._output import handle_errors, out


@handle_errors
def bake(
    root: Annotated[Path, typer.Argument(help="Folder holding the model folders.")] = Path(),
    output: Annotated[Path, typer.Option("-o", "--output", help="The bake file.")] = Path(
        "docker-bake.json"
    ),
    base_registry: Annotated[
        str | None,
        typer.Option(
            metavar="REGISTRY", help="Registry the bases were pushed to, for remote builders."
        ),
    ] = None,
    cache: Annotated[
        str | None,
        typer.Option(
            "--cache",
            metavar="REGISTRY/REPOSITORY",
            help="Export and import BuildKit's cache there (one tag per target, each target "
            "reading those on its base): remote builders reuse each other's layers.",
        ),
    ] = None,
    attest: Annotated[
        bool,
        typer.Option(
            "--attest",
            help="Ask BuildKit for SLSA provenance (mode=max) and an SBOM attestation; needs a "
            "builder that stores attestations (docker-container, kubernetes, remote).",
        ),
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Write a buildx bake file for every model.

    Check and plan every model, assemble their contexts, write a buildx bake file checked
    against the attributes buildx reads."""
    from imagekit.build.bake import BakeOptions, write_bake

    options = BakeOptions(base_registry=base_registry, cache=cache, attest=attest)
    targets = write_bake(root, output, options=options, catalog=load_catalog(catalog))
    for target in targets:
        out(f"{target.name:<30} {target.plan.image_ref:<40} {target.context}")
    bases = sorted({t.plan.base.reference for t in targets})
    out(f"wrote {output} ({len(targets)} targets); bases needed: {', '.join(bases)}")
