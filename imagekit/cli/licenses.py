"""`imagekit licenses IMAGE|SBOM --policy FILE`: judge every licence against the policy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._options import JsonOption
from imagekit.cli._output import fail_if, handle_errors, out, out_json, print_findings, table
from imagekit.cli.sbom import load_inventory
from imagekit.errors import InputError

if TYPE_CHECKING:
    from imagekit.licenses import LicenseReport

HEADER = ("VERDICT", "KIND", "NAME", "VERSION", "LICENCE", "RULE")
WIDEST = 48  # a Debian package can list dozens of licences: --json has them all


def _cut(text: str) -> str:
    return text if len(text) <= WIDEST else text[: WIDEST - 3] + "..."


def _table(report: LicenseReport) -> list[str]:
    return table(
        [
            HEADER,
            *(
                (
                    d.verdict.value,
                    d.component.kind,
                    d.component.name,
                    d.component.version or "-",
                    _cut(d.component.licence),
                    d.rule if d.licence == d.component.licence else f"{d.licence}: {d.rule}",
                )
                for d in report.decisions
            ),
        ]
    )


def _summary(report: LicenseReport) -> str:
    from imagekit.licenses import Verdict

    counts = {v: len(report.of(v)) for v in Verdict}
    return (
        f"{len(report.decisions)} components: {counts[Verdict.DENY]} denied, "
        f"{counts[Verdict.REVIEW]} to review, {counts[Verdict.ALLOW]} allowed"
    )


@handle_errors
def licenses(
    target: Annotated[
        str,
        typer.Argument(
            help="An image (as `imagekit sbom` takes it), or a CycloneDX or SPDX JSON SBOM file.",
            show_default=False,
        ),
    ],
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="The project's licence policy (TOML: allow, review, deny, [[exceptions]]).",
            envvar="IMAGEKIT_LICENSE_POLICY",
            show_default=False,
        ),
    ] = None,
    base_policy: Annotated[
        Path | None,
        typer.Option(
            "--base-policy",
            help="The platform team's policy for Debian packages "
            "(default: base_images/policy/licenses.toml of the catalog).",
            envvar="IMAGEKIT_BASE_LICENSE_POLICY",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Judge the licence of every package, model and dataset.

    Exit 1 if the policy denies one.

    `imagekit licenses init --policy FILE` writes a starter policy (default license-policy.toml).
    Debian packages (the base image's, and [system] ones) are judged by the platform team's base
    policy, everything else by the project's --policy. A policy file (or its [licenses] table):

    \b
    allow = ["MIT", "BSD-3-Clause", "Apache-2.0"]    # SPDX ids, one licence per entry
    review = ["LGPL-2.1-or-later"]                   # a human decides
    deny = ["GPL-3.0-only", "AGPL-3.0-only"]         # exit 1

    \b
    [[exceptions]]                                   # this package may use this licence
    package = "nvidia-cuda-runtime-cu12"
    version = "12.4.127"                        # optional: every version when left out
    license = "LicenseRef-NVIDIA-Proprietary"   # SPDX, the name as found, or NOASSERTION
    reason = "CUDA EULA accepted by legal (ticket LEGAL-123)"

    A licence not listed, or not SPDX, goes to review. AND needs every part (the worst verdict
    wins); OR takes the best branch; A WITH E listed whole gets its verdict, else A's (a denied A
    goes to review).
    """
    from imagekit.image.ref import RefKind, image_ref
    from imagekit.inventory.spdx import read_spdx
    from imagekit.licenses import (
        LicensePolicy,
        Verdict,
        components_from_inventory,
        components_of_view,
        read_sbom,
    )
    from imagekit.licenses.scopes import base_policy_path, evaluate_scoped
    from imagekit.licenses.starter import DEFAULT_POLICY_FILE, write_starter_policy

    if target == "init":
        written = write_starter_policy(policy or Path(DEFAULT_POLICY_FILE))
        out(f"wrote {written}: edit it, then: imagekit licenses IMAGE --policy {written}")
        return
    if policy is None:
        raise InputError(
            Path(target),
            "no licence policy given",
            "pass --policy FILE (imagekit licenses init writes a starter one)",
        )
    rules = LicensePolicy.load(policy)
    base_file = base_policy or base_policy_path()
    base_rules = LicensePolicy.load(base_file) if base_file is not None else None
    ref = image_ref(target)
    if ref.kind is RefKind.SBOM:
        components = read_sbom(ref.path)
    elif ref.kind is RefKind.SPDX:
        components = components_of_view(read_spdx(ref.path))
    elif ref.is_image:
        components = components_from_inventory(load_inventory(target))
    else:
        raise ref.refused("an image or a CycloneDX JSON SBOM")
    report = evaluate_scoped(components, rules, base_rules)
    if as_json:
        out_json(report.to_dict())
    else:
        for line in _table(report):
            out(line)
        out(_summary(report))
        if not report.ok:
            print_findings(d.finding() for d in report.of(Verdict.DENY))
    fail_if(not report.ok)
