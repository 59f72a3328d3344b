"""`imagekit bake`: a docker buildx bake file for every model under a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit.build.bake import write_bake
from imagekit.cli._output import handle_errors, out
from imagekit.plan.catalog import Catalog


@handle_errors
def bake(
    root: Annotated[Path, typer.Argument(help="Folder holding the model folders.")] = Path(),
    output: Annotated[Path, typer.Option("-o", "--output", help="The bake file.")] = Path(
        "docker-bake.json"
    ),
    base_registry: Annotated[
        str | None,
        typer.Option(help="Registry the bases were pushed to, for remote builders."),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="Base image catalog folder.", envvar="IMAGEKIT_BASE_IMAGES"),
    ] = None,
) -> None:
    """Check and plan every model, assemble their contexts, write a buildx bake file."""
    targets = write_bake(
        root,
        output,
        base_registry=base_registry,
        catalog=Catalog.load(catalog) if catalog else None,
    )
    for target in targets:
        out(f"{target.name:<30} {target.plan.image_ref:<40} {target.context}")
    bases = sorted({t.plan.base.reference for t in targets})
    out(f"wrote {output} ({len(targets)} targets); bases needed: {', '.join(bases)}")
