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


RepositoryArgument = Annotated[
    str, typer.Argument(metavar="REGISTRY/REPOSITORY", help="The repository, without a tag.")
]
NameArgument = Annotated[str, typer.Argument(help="Catalog name of the base image.")]


@app.command("push")
@handle_errors
def push_base_command(
    reference: RepositoryArgument,
    name: NameArgument,
    catalog: CatalogOption = None,
    quiet: QuietOption = False,
) -> None:
    """Publish a catalog base to a registry by its recipe hash.

    Built without a daemon (or reused), under the tag base-<recipe sha256>: `imagekit base
    pull` and `imagekit build --cache` take it."""
    from imagekit.build.oci import ensure_base, hold_bases
    from imagekit.build.oci.regcache import cache_reference
    from imagekit.build.oci.shared import base_reference
    from imagekit.cachedir import cache_root
    from imagekit.plan.catalog import Catalog
    from imagekit.registry import push_layout

    base = Catalog.load(catalog).get(name)
    ref = base_reference(cache_reference(reference), base)
    lines = ProgressLines(quiet)
    with progress.shown(progress.Display(quiet=quiet)), hold_bases(base, cache_root()):
        built = ensure_base(base, cache_root=cache_root(), log=lines)
        result = push_layout(built.layout, ref)
    out(f"pushed {base.name} {ref}@{result.digest}  ({len(result.uploaded)} blob(s) uploaded, "
        f"{len(result.existing) + len(result.mounted)} there already)")  # fmt: skip


@app.command("pull")
@handle_errors
def pull_base_command(
    reference: RepositoryArgument,
    name: NameArgument,
    catalog: CatalogOption = None,
    quiet: QuietOption = False,
) -> None:
    """Take a base published with `imagekit base push` into the local cache.

    Every blob is verified; a base already there (from the same recipe) is kept."""
    from imagekit.build.oci import hold_bases
    from imagekit.build.oci.base import OciBaseBuilder
    from imagekit.build.oci.regcache import cache_reference
    from imagekit.build.oci.shared import base_reference, pull_base
    from imagekit.cachedir import cache_root
    from imagekit.plan.catalog import Catalog

    base = Catalog.load(catalog).get(name)
    ref = base_reference(cache_reference(reference), base)
    builder = OciBaseBuilder(cache_root=cache_root(), log=ProgressLines(quiet))
    layout = cache_root() / "bases" / base.recipe_hash
    with progress.shown(progress.Display(quiet=quiet)), hold_bases(base, cache_root()):
        found = builder.reusable(base)
        if found is not None:
            out(f"have {base.name} {found.image.manifest_digest}  ({layout})")
            return
        digest = pull_base(base, ref, layout)
        builder.reusable(base)  # every blob hashed again, as a build reuses it
    out(f"pulled {base.name} {ref}@{digest}  ({layout})")
