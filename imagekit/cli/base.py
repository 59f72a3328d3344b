"""`imagekit base ...`: the base image catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from imagekit import progress
from imagekit.cli._options import CatalogOption, JsonOption, QuietOption
from imagekit.cli._output import ProgressLines, handle_errors, out, out_json, table

if TYPE_CHECKING:
    from imagekit.plan.catalog import BaseImage

app = typer.Typer(help="The base image catalog.", no_args_is_help=True, rich_markup_mode=None)


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
def list_bases(catalog: CatalogOption = None, as_json: JsonOption = False) -> None:
    """Show the base images of the catalog."""
    from imagekit.plan.catalog import Catalog

    rows = [_row(b) for b in Catalog.load(catalog).bases.values()]
    if as_json:
        out_json(rows)
        return
    header = ("NAME", "OS", "PYTHON", "CUDA", "MIN DRIVER", "FROM")
    columns = ("name", "os", "python", "cuda", "min_driver", "from")
    for line in table([header, *([r[c] or "-" for c in columns] for r in rows)]):
        out(line)


@app.command("build")
@handle_errors
def build_base_command(
    name: Annotated[str, typer.Argument(help="Catalog name of the base image.")],
    catalog: CatalogOption = None,
    quiet: QuietOption = False,
) -> None:
    """Build a catalog base image in the Docker daemon.

    Reused while its recipe is unchanged."""
    from imagekit.build.baseimage import build_base
    from imagekit.daemon import docker_client
    from imagekit.plan.catalog import Catalog

    base = Catalog.load(catalog).get(name)
    client = docker_client()
    try:
        with progress.shown(progress.Display(quiet=quiet)), progress.step(f"base {name}"):
            result = build_base(base, client, log=ProgressLines(quiet))
    finally:
        client.close()
    state = "reused" if result.reused else "built"
    out(f"{state} {result.tag}  {result.image_id}  (imagekit build takes it from the daemon)")
