"""Arguments and options more than one command takes, declared once: the same flag has the same
name, help and environment variable everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from imagekit.plan.catalog import Catalog

ProjectArg = Annotated[
    Path, typer.Argument(help="The model folder (holding imagekit.toml).", show_default=True)
]
CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="Base image catalog folder (default: the one shipped with imagekit).",
        envvar="IMAGEKIT_BASE_IMAGES",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="PATTERN",
        help="For a root file system directory: a path or glob inside it not to read "
        "(/srv/data, /home/*/.cache); repeat for more. /proc, /sys, /dev and /run are "
        "never read unless --no-default-excludes is given.",
        show_default=False,
    ),
]
DefaultExcludesOption = Annotated[
    bool,
    typer.Option(
        "--default-excludes/--no-default-excludes",
        help="Skip /proc, /sys, /dev and /run of a root file system directory (the kernel's "
        "virtual file systems of a live root).",
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout", metavar="SECONDS", help="Seconds the command may run in each image.", min=1
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress: results and errors only (as in a pipe or with CI set).",
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show engines' whole logs instead of one line per step."),
]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Write the Markdown report to FILE.")
]


def load_catalog(path: Path | None) -> Catalog | None:
    """The catalog `--catalog` names; None leaves the library its shipped one."""
    if path is None:
        return None
    from imagekit.plan.catalog import Catalog

    return Catalog.load(path)
