"""The root Typer app; each command group lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from imagekit import __version__
from imagekit.cli import bake, base, build, project, registry

app = typer.Typer(
    name="imagekit",
    help="Build reproducible container images for ML models, and tell the truth about them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
project.register(app)
app.command("build")(build.build)
app.command("bake")(bake.bake)
app.command("push")(registry.push)
app.command("pull")(registry.pull)
app.add_typer(base.app, name="base")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imagekit {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """imagekit: model images that are reproducible and say what is inside them."""


def main() -> None:
    app()
