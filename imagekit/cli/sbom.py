"""`imagekit sbom IMAGE`: the image's CycloneDX (or SPDX) SBOM, schema-validated, to stdout or a
file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._options import DefaultExcludesOption, ExcludeOption
from imagekit.cli._output import err, handle_errors
from imagekit.sbom.interface import SbomFormat, SpecVersion

if TYPE_CHECKING:
    from imagekit.inventory import Inventory

ImageArgument = Annotated[
    str,
    typer.Argument(
        help="The image: a tag in the Docker daemon, a docker-archive file, an OCI layout "
        "or a root file system directory.",
        show_default=False,
    ),
]


def load_inventory(
    reference: str, exclude: list[str] | None = None, *, default_excludes: bool = True
) -> Inventory:
    """What the image holds (`read_inventory`); what could not be read goes to stderr."""
    from imagekit.inventory import read_inventory

    inventory = read_inventory(reference, exclude=exclude or (), default_excludes=default_excludes)
    for warning in inventory.warnings:
        err(f"warning: {warning}")
    return inventory


@handle_errors
def sbom(
    image: ImageArgument,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the SBOM here (default: stdout).")
    ] = None,
    fmt: Annotated[
        SbomFormat, typer.Option("--format", help="CycloneDX JSON or XML, or SPDX 2.3 JSON.")
    ] = SbomFormat.CYCLONEDX_JSON,
    spec_version: Annotated[
        SpecVersion,
        typer.Option("--spec-version", help="CycloneDX specification version (SPDX is 2.3)."),
    ] = SpecVersion.V1_6,
    reproducible: Annotated[
        bool,
        typer.Option(
            "--reproducible",
            help="No serial number or timestamp (SPDX: a fixed date, a namespace named by the "
            "content): the same image gives the same bytes.",
        ),
    ] = False,
    exclude: ExcludeOption = None,
    default_excludes: DefaultExcludesOption = True,
) -> None:
    """Write the image's SBOM (CycloneDX, or SPDX with --format spdx-json): packages, model,
    data, CUDA and the driver it needs.

    A root file system directory may be a live one (`imagekit sbom /`): /proc, /sys, /dev and
    /run are skipped, and a file that cannot be read is a warning, not an error."""
    from imagekit.sbom import render_sbom, write_sbom, writer

    inventory = load_inventory(image, exclude, default_excludes=default_excludes)
    if output is None:
        typer.echo(
            render_sbom(inventory, fmt=fmt, spec=spec_version, reproducible=reproducible), nl=False
        )
        return
    write_sbom(inventory, output, fmt=fmt, spec=spec_version, reproducible=reproducible)
    err(f"wrote {output} ({writer(fmt).title(spec_version)})")
