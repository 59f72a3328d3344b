"""`imagekit diff OLD NEW`: what changed between two images, SBOMs or lockfiles, and its risk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._options import JsonOption
from imagekit.cli._output import UsageError, handle_errors, out_block

_INPUT_HELP = (
    "An image (a tag in the Docker daemon, a docker-archive or OCI layout path), "
    "a CycloneDX or SPDX JSON SBOM, or a lockfile."
)


@handle_errors
def diff(
    old: Annotated[str, typer.Argument(help=_INPUT_HELP, show_default=False)],
    new: Annotated[str, typer.Argument(help=_INPUT_HELP, show_default=False)],
    as_json: JsonOption = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown fit for a pull-request comment.")
    ] = False,
    risk: Annotated[
        Path | None,
        typer.Option(
            "--risk",
            help="A risk table (the format of imagekit/data/risk.toml) whose entries override "
            "the shipped ones by name.",
            envvar="IMAGEKIT_RISK_TABLE",
        ),
    ] = None,
    osv: Annotated[
        list[Path] | None,
        typer.Option(
            "--osv",
            help="An OSV export (a directory of *.json records or osv.dev's all.zip): report "
            "the vulnerabilities introduced and fixed. Repeatable.",
        ),
    ] = None,
) -> None:
    """Show what changed between two images, and its risk.

    Added, removed, up- and downgraded packages, CUDA, driver and model changes, each classed
    numeric-risk, behaviour or benign; exit 0, or 2 when an input cannot be read."""
    from imagekit.diff import diff as diff_inputs
    from imagekit.diff import to_json, to_markdown, to_text

    if as_json and markdown:
        raise UsageError("choose one of --json and --markdown")
    result = diff_inputs(old, new, risk=risk, osv=osv or ())
    render = to_json if as_json else to_markdown if markdown else to_text
    out_block(render(result))
