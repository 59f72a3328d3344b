"""The root Typer app; each command group lives in its own module. Importing this module is the
CLI's start-up: typer and the command modules, which import their library only when a command
runs (`imagekit --help` and `imagekit <command> --help` load no library).
`imagekit.cli.main` imports it, so that a Ctrl-C while it runs is one line."""

from __future__ import annotations

from typing import Annotated

import typer

from imagekit import __version__
from imagekit.cli import (
    bake,
    base,
    build,
    conflicts,
    diff,
    gpu,
    inventory,
    licenses,
    project,
    registry,
    sbom,
    scan,
    update,
    verify,
)
from imagekit.cli._faults import ExitCode

app = typer.Typer(
    name="imagekit",
    help="Build reproducible container images for ML models, and tell the truth about them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich, loaded for them, would double `imagekit --help`'s
    # start-up (see benchmarks/startup.py).
    rich_markup_mode=None,
    # As wide as the terminal up to 120 columns (click stops at 80): the policy format in
    # `licenses --help` and long option names stay on one line.
    context_settings={"max_content_width": 120},
)
project.register(app)
app.command("build")(build.build)
app.command("inventory")(inventory.inventory)
app.command("bake")(bake.bake)
app.command("push")(registry.push)
app.command("pull")(registry.pull)
app.command("attach")(registry.attach)
app.command("sbom")(sbom.sbom)
app.command("scan")(scan.scan)
app.command("licenses")(licenses.licenses)
app.command("probe")(gpu.probe)
app.command("compat")(gpu.compat)
app.add_typer(base.app, name="base")
app.command("diff")(diff.diff)
app.command("verify")(verify.verify)
app.command("update")(update.update)
app.add_typer(conflicts.app, name="conflicts")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imagekit {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """imagekit: model images that are reproducible and say what is inside them."""
