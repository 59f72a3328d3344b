"""`imagekit inventory`: what an image actually contains, read from its own files."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._options import DefaultExcludesOption, ExcludeOption
from imagekit.cli._output import err, fail_if, handle_errors, out, out_block

if TYPE_CHECKING:
    from imagekit.inventory import Inventory, ModelArtifact


def _artifact_line(artifact: ModelArtifact) -> str:
    if artifact.verified:
        return f"  {artifact.name}: {artifact.path} verified (sha256 {artifact.actual_sha256})"
    found = (
        f"found sha256 {artifact.actual_sha256}"
        if artifact.actual_sha256
        else "the file is missing"
    )
    return (
        f"  {artifact.name}: {artifact.path} NOT verified: "
        f"the plan recorded sha256 {artifact.recorded_sha256}, {found}"
    )


def _cuda_line(inventory: Inventory) -> str:
    if not inventory.cuda:
        return "CUDA: none"
    versions = sorted({c.cuda_version for c in inventory.cuda if c.cuda_version})
    pieces = ", ".join(f"{c.name} {c.version} ({c.kind.value})" for c in inventory.cuda)
    driver = f"; driver >= {inventory.min_driver}" if inventory.min_driver else ""
    return f"CUDA {', '.join(versions) or '?'}: {pieces}{driver}"


def summary(inventory: Inventory) -> list[str]:
    """The human summary: identity, OS, package counts, CUDA, and each artifact's check."""
    image = inventory.image
    release = inventory.os_release
    lines = [
        f"{image.reference} ({image.os}/{image.architecture}, {image.digest or 'no digest'}, "
        f"{len(image.layers)} layers, read from {image.source_kind})",
        f"OS: {release.pretty_name or release.id if release else 'unknown (no os-release)'}",
        f"Debian packages: {len(inventory.debs)}",
    ]
    environments = Counter(d.site_packages for d in inventory.python)
    if not environments:
        lines.append("Python distributions: none")
    for site_packages, count in sorted(environments.items()):
        lines.append(f"Python distributions: {count} in {site_packages}")
    lines.append(_cuda_line(inventory))
    if inventory.artifacts:
        lines.append("Model artifacts:")
        lines.extend(_artifact_line(a) for a in inventory.artifacts)
    else:
        lines.append("Model artifacts: none recorded (no imagekit plan in the image)")
    return lines


@handle_errors
def inventory(
    image: Annotated[
        str,
        typer.Argument(
            help="An image in the Docker daemon (name:tag or id), a `docker save` archive, "
            "an OCI layout directory, or an unpacked root file system directory."
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole inventory as JSON.")
    ] = False,
    platform: Annotated[
        str | None,
        typer.Option(
            metavar="OS/ARCH",
            help="The platform to read from a multi-platform OCI layout (linux/arm64).",
        ),
    ] = None,
    exclude: ExcludeOption = None,
    default_excludes: DefaultExcludesOption = True,
) -> None:
    """List what an image contains.

    Exit 1 if a model artifact does not match its plan.

    A root file system directory may be a live one (`imagekit inventory /`): /proc, /sys, /dev
    and /run are skipped, and a file that cannot be read is a warning, not an error."""
    from imagekit.inventory import read_inventory

    found = read_inventory(
        image, platform=platform, exclude=exclude or (), default_excludes=default_excludes
    )
    if as_json:
        out_block(json.dumps(found.to_dict(), indent=2, sort_keys=True))
    else:
        for line in summary(found):
            out(line)
    for warning in found.warnings:
        err(f"warning: {warning}")
    failed = [a for a in found.artifacts if not a.verified]
    if failed:
        err(f"{len(failed)} model artifact(s) NOT verified: {', '.join(a.path for a in failed)}")
    fail_if(bool(failed))
