"""`imagekit build`: build a model folder's image."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imagekit.backends import BackendKind
from imagekit.build import build_project
from imagekit.catalog import Catalog
from imagekit.cli._output import handle_errors, print_findings


class _Progress:
    """One rewritten status line on a terminal; plain lines otherwise."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.width = 0

    def __call__(self, line: str) -> None:
        if not self.tty:
            typer.echo(line, err=True)
            return
        text = line.strip().replace("\t", " ")[:100]
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)

    def done(self) -> None:
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1000
    return f"{n} B"


@handle_errors
def build(
    project: Annotated[Path, typer.Argument(help="The model folder.")] = Path(),
    backend: Annotated[BackendKind, typer.Option(help="Build engine.")] = BackendKind.DOCKER,
    tag: Annotated[str | None, typer.Option(help="Image tag (default: name:version).")] = None,
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="Base image catalog folder.", envvar="IMAGEKIT_BASE_IMAGES"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Where the build record goes (default: <project>/.imagekit)."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Rebuild every layer; reuse none.")
    ] = False,
) -> None:
    """Check, plan and build the image; write its build record."""
    progress = _Progress(sys.stderr.isatty())
    try:
        outcome = build_project(
            project,
            progress=progress,
            backend=backend,
            tag=tag,
            catalog=Catalog.load(catalog) if catalog else None,
            output=output,
            no_cache=no_cache,
        )
    finally:
        progress.done()
    print_findings(outcome.warnings)
    result = outcome.result
    typer.echo(
        f"built {result.tag}  {result.image_id}  {_size(result.size)}  {len(result.layers)} layers"
    )
    typer.echo(f"record {outcome.record}")
