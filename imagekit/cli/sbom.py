"""`imagekit sbom IMAGE`: the image's CycloneDX (or SPDX) SBOM, schema-validated, to stdout or a
file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._options import DefaultExcludesOption, ExcludeOption
from imagekit.cli._output import UsageError, err, handle_errors, out_json
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
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="With --output: print where the SBOM went and what it holds as JSON on stdout.",
        ),
    ] = False,
    from_registry: Annotated[
        bool,
        typer.Option(
            "--from-registry",
            help="IMAGE is an image in its registry: write the CycloneDX SBOM attached to it "
            "(`imagekit attach`, `imagekit push`) as it is, verified by its digest.",
        ),
    ] = False,
) -> None:
    """Write the image's SBOM.

    CycloneDX, or SPDX 2.3 with --format spdx-json: packages, model, data, CUDA and the driver
    it needs.

    A root file system directory may be a live one (`imagekit sbom /`): /proc, /sys, /dev and
    /run are skipped, and a file that cannot be read is a warning, not an error."""
    if from_registry:
        changed = fmt is not SbomFormat.CYCLONEDX_JSON or reproducible or exclude
        if changed:
            raise UsageError(
                "--from-registry writes the attached SBOM as it is: leave out "
                "--format, --reproducible and --exclude"
            )
        from imagekit.cli.registry import write_attached_sbom

        write_attached_sbom(image, output)
        return
    from imagekit.sbom import render_sbom, write_sbom, writer

    if as_json and output is None:
        raise UsageError("--json needs --output: without it stdout carries the SBOM itself")
    inventory = load_inventory(image, exclude, default_excludes=default_excludes)
    if output is None:
        typer.echo(
            render_sbom(inventory, fmt=fmt, spec=spec_version, reproducible=reproducible), nl=False
        )
        return
    write_sbom(inventory, output, fmt=fmt, spec=spec_version, reproducible=reproducible)
    if as_json:
        out_json(
            {
                "output": str(output),
                "format": fmt.value,
                "spec_version": spec_version.value,
                "debian_packages": len(inventory.debs),
                "python_packages": len(inventory.python),
                "model_artifacts": len(inventory.artifacts),
            }
        )
        return
    held = f"{len(inventory.debs)} Debian and {len(inventory.python)} Python packages"
    err(f"wrote {output} ({writer(fmt).title(spec_version)}: {held})")
    err(f"read it: imagekit scan {output}; imagekit licenses {output} --policy FILE")
