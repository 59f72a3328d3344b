"""`imagekit licenses IMAGE|SBOM --policy FILE`: judge every licence against the policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._faults import one_line
from imagekit.cli._output import handle_errors, out, out_block, print_findings
from imagekit.cli.sbom import load_inventory
from imagekit.licenses import (
    LicensePolicy,
    LicenseReport,
    Verdict,
    components_from_inventory,
    evaluate,
    is_sbom_file,
    read_sbom,
)

HEADER = ("VERDICT", "KIND", "NAME", "VERSION", "LICENCE", "RULE")
WIDEST = 48  # a Debian package can list dozens of licences: --json has them all


def _cut(text: str) -> str:
    return text if len(text) <= WIDEST else text[: WIDEST - 3] + "..."


def _table(report: LicenseReport) -> list[str]:
    rows = [HEADER] + [
        tuple(
            one_line(cell)  # names, versions and licences come from the image or the SBOM
            for cell in (
                d.verdict.value,
                d.component.kind,
                d.component.name,
                d.component.version or "-",
                _cut(d.component.licence),
                d.rule if d.licence == d.component.licence else f"{d.licence}: {d.rule}",
            )
        )
        for d in report.decisions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def _summary(report: LicenseReport) -> str:
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
            help="An image (as `imagekit sbom` takes it), or a CycloneDX JSON SBOM file.",
            show_default=False,
        ),
    ],
    policy: Annotated[
        Path,
        typer.Option(
            "--policy",
            help="The licence policy (TOML: allow, review, deny, [[exceptions]]).",
            envvar="IMAGEKIT_LICENSE_POLICY",
            show_default=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Judge the licence of every package, model and dataset; exit 1 if the policy denies one."""
    rules = LicensePolicy.load(policy)
    path = Path(target)
    if is_sbom_file(path):
        components = read_sbom(path)
    else:
        components = components_from_inventory(load_inventory(target))
    report = evaluate(components, rules)
    if as_json:
        out_block(json.dumps(report.to_dict(), indent=2))
    else:
        for line in _table(report):
            out(line.rstrip())
        out(_summary(report))
    if not report.ok:
        if not as_json:
            print_findings(d.finding() for d in report.of(Verdict.DENY))
        raise typer.Exit(1)
