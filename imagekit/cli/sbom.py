"""`imagekit sbom IMAGE`: the image's CycloneDX SBOM, schema-validated, to stdout or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._output import err, handle_errors
from imagekit.inventory import Inventory, read_inventory
from imagekit.sbom import SbomFormat, SpecVersion, render_sbom, write_sbom

ImageArgument = Annotated[
    str,
    typer.Argument(
        help="The image: a tag in the Docker daemon, a docker-archive file, an OCI layout "
        "or a root file system directory.",
        show_default=False,
    ),
]


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


def load_inventory(
    reference: str, exclude: list[str] | None = None, *, default_excludes: bool = True
) -> Inventory:
    """What the image holds (`read_inventory`); what could not be read goes to stderr."""
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
        SbomFormat, typer.Option("--format", help="CycloneDX JSON or XML.")
    ] = SbomFormat.CYCLONEDX_JSON,
    spec_version: Annotated[
        SpecVersion, typer.Option("--spec-version", help="CycloneDX specification version.")
    ] = SpecVersion.V1_6,
    reproducible: Annotated[
        bool,
        typer.Option(
            "--reproducible",
            help="No serial number or timestamp: the same image gives the same bytes.",
        ),
    ] = False,
    exclude: ExcludeOption = None,
    default_excludes: DefaultExcludesOption = True,
) -> None:
    """Write the image's CycloneDX SBOM: packages, model, data, CUDA and the driver it needs.

    A root file system directory may be a live one (`imagekit sbom /`): /proc, /sys, /dev and
    /run are skipped, and a file that cannot be read is a warning, not an error."""
    inventory = load_inventory(image, exclude, default_excludes=default_excludes)
    if output is None:
        typer.echo(
            render_sbom(inventory, fmt=fmt, spec=spec_version, reproducible=reproducible), nl=False
        )
        return
    write_sbom(inventory, output, fmt=fmt, spec=spec_version, reproducible=reproducible)
    err(f"wrote {output} (CycloneDX {spec_version} {fmt})")
