"""`imagekit scan IMAGE|SBOM`: known vulnerabilities, from OSV data."""

from __future__ import annotations

import datetime
import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from imagekit.cli._options import JsonOption
from imagekit.cli._output import err, fail_if, handle_errors, out, out_json, print_findings, table

if TYPE_CHECKING:
    from imagekit.inventory.model import Inventory
    from imagekit.vulns import ScanReport, Target, VulnFinding


class FailOn(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


def _severity(finding: VulnFinding) -> str:
    rating = finding.rating
    level = rating.level.value
    return f"{level} {rating.score}" if rating.score is not None else level


def _rows(findings: tuple[VulnFinding, ...]) -> list[tuple[str, ...]]:
    """One row per finding (`table` makes each cell one line)."""
    return [
        (
            f.package.display_name,
            f.package.version,
            f.id + (f" ({', '.join(f.aliases)})" if f.aliases else ""),
            _severity(f),
            ", ".join(f.fixed) or "-",
        )
        for f in findings
    ]


def _summary(report: ScanReport) -> str:
    from imagekit.vulns import Level

    counts = dict.fromkeys(reversed(Level), 0)
    for finding in report.active:
        counts[finding.rating.level] += 1
    parts = [f"{n} {level.value}" for level, n in counts.items() if n]
    text = f"{len(report.active)} vulnerabilities in {report.packages} packages"
    text += f" ({', '.join(parts)})" if parts else ""
    return text + (f", {len(report.ignored)} ignored" if report.ignored else "")


def _print_report(report: ScanReport) -> None:
    header = ("PACKAGE", "INSTALLED", "VULNERABILITY", "SEVERITY", "FIXED IN")
    if report.active:
        for line in table([header, *_rows(report.active)]):
            out(line)
        for f in report.active:
            if f.matched_on:
                out(f"  {f.id} in {f.package.display_name}: {f.matched_on}")
    if report.ignored:
        out()
        out("Ignored:")
        for f in report.ignored:
            rule = f.ignored_by
            if rule is None:  # report.ignored holds only findings with a rule
                continue
            out(
                f"  {f.id} in {f.package.display_name} {f.package.version}: {rule.reason} "
                f"(until {rule.expires.isoformat()}, {rule.location})"
            )
    if report.findings:
        out()
    out(_summary(report))


def _document(loaded: Target, inventory: Inventory | None) -> dict[str, Any]:
    """The SBOM the findings go into: the input SBOM, or the scanned image's own."""
    from imagekit.inventory.cyclonedx import load_document
    from imagekit.sbom import render_sbom
    from imagekit.vulns import VulnError

    if loaded.sbom is not None:
        return load_document(loaded.sbom)
    if inventory is None:
        raise VulnError(
            f"{loaded.reference}: no CycloneDX SBOM to write the vulnerabilities into "
            "(--sbom-out writes CycloneDX: scan the image or its CycloneDX SBOM)"
        )
    return dict(json.loads(render_sbom(inventory, reproducible=True)))


@handle_errors
def scan(
    target: Annotated[
        str,
        typer.Argument(
            help="An image (tag, archive, OCI layout) or a CycloneDX or SPDX JSON SBOM."
        ),
    ],
    osv: Annotated[
        list[Path] | None,
        typer.Option(
            "--osv",
            help="OSV export: a directory of *.json records or osv.dev's all.zip (repeatable).",
        ),
    ] = None,
    online: Annotated[
        bool, typer.Option("--online", help="Also query the OSV API (needs network).")
    ] = False,
    osv_url: Annotated[
        str | None,
        typer.Option(
            "--osv-url", metavar="URL", help="OSV API base URL (default: https://api.osv.dev)."
        ),
    ] = None,
    ignore: Annotated[
        Path | None, typer.Option("--ignore", help="TOML file of accepted vulnerabilities.")
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 if a vulnerability at or above this severity (or of unknown severity) "
            "is not ignored.",
        ),
    ] = None,
    as_json: JsonOption = False,
    sbom_out: Annotated[
        Path | None,
        typer.Option("--sbom-out", help="Write a CycloneDX SBOM with the vulnerabilities here."),
    ] = None,
) -> None:
    """Match an image's packages against OSV vulnerabilities.

    The packages of an image or an SBOM, matched against OSV vulnerability data."""
    from imagekit.vulns import Level, choose_sources, load_ignores, load_target
    from imagekit.vulns import scan as run_scan
    from imagekit.vulns.online import DEFAULT_URL

    sources = choose_sources(
        osv=osv or [], online=online, url=DEFAULT_URL if osv_url is None else osv_url
    )
    rules = load_ignores(ignore) if ignore else ()
    loaded, inventory = load_target(target)
    report = run_scan(loaded, sources, ignores=rules, today=datetime.date.today())
    if sbom_out:
        from imagekit.sbom import write_text_atomically
        from imagekit.vulns.cyclonedx import render

        write_text_atomically(sbom_out, render(_document(loaded, inventory), report, target))
    print_findings(report.warnings)
    if as_json:
        out_json(report.to_dict())
    else:
        _print_report(report)
    if sbom_out:
        err(f"wrote {sbom_out} (CycloneDX with its vulnerabilities, for Dependency-Track)")
    failing = report.failing(Level(fail_on.value)) if fail_on else ()
    if failing:
        err(
            f"{len(failing)} vulnerabilities not ignored at or above {fail_on} or of unknown "
            "severity (--fail-on)"
        )
    # A skipped record may hold an advisory that was never evaluated: like an unknown severity,
    # it is not known to be below the threshold.
    unread = report.unread if fail_on else ()
    if unread:
        err(f"{len(unread)} OSV records could not be read, so the scan is incomplete (--fail-on)")
    fail_if(bool(failing or unread))
