"""`imagekit base ...`: the base image catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from imagekit.build.baseimage import build_base
from imagekit.cli._output import err, handle_errors, out, out_block
from imagekit.daemon import docker_client
from imagekit.plan.catalog import BaseImage, Catalog

app = typer.Typer(help="The base image catalog.", no_args_is_help=True)

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="Catalog folder (default: the one shipped with imagekit).",
        envvar="IMAGEKIT_BASE_IMAGES",
    ),
]


def _row(base: BaseImage) -> dict[str, object]:
    return {
        "name": base.name,
        "os": f"{base.os.distro} {base.os.release}",
        "python": str(base.python.version),
        "cuda": str(base.cuda.version) if base.cuda else None,
        "min_driver": base.cuda.min_driver if base.cuda else None,
        "from": base.parent.name if base.parent else None,
        "platforms": list(base.platforms),
        "packages": len(base.python_packages),
        "recipe_sha256": base.recipe_hash,
        "description": base.description,
    }


@app.command("list")
@handle_errors
def list_bases(
    catalog: CatalogOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the base images of the catalog."""
    rows = [_row(b) for b in Catalog.load(catalog).bases.values()]
    if as_json:
        out_block(json.dumps(rows, indent=2))
        return
    header = ("NAME", "OS", "PYTHON", "CUDA", "MIN DRIVER", "FROM")
    table = [header] + [
        (
            str(r["name"]),
            str(r["os"]),
            str(r["python"]),
            str(r["cuda"] or "-"),
            str(r["min_driver"] or "-"),
            str(r["from"] or "-"),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        out("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@app.command("build")
@handle_errors
def build_base_command(
    name: Annotated[str, typer.Argument(help="Catalog name of the base image.")],
    catalog: CatalogOption = None,
) -> None:
    """Build a catalog base image in the Docker daemon (reused while its recipe is unchanged)."""
    base = Catalog.load(catalog).get(name)
    client = docker_client()
    try:
        result = build_base(base, client, log=err)
    finally:
        client.close()
    state = "reused" if result.reused else "built"
    out(f"{state} {result.tag}  {result.image_id}")
