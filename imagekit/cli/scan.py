"""`imagekit scan IMAGE|SBOM`: known vulnerabilities, from OSV data."""

from __future__ import annotations

import datetime
import enum
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from imagekit.cli._faults import one_line
from imagekit.cli._output import err, handle_errors, out, out_block, print_findings
from imagekit.inventory.cyclonedx import load_document
from imagekit.inventory.model import Inventory
from imagekit.sbom import render_sbom, write_text_atomically
from imagekit.vulns import (
    Level,
    ScanReport,
    Target,
    VulnError,
    VulnFinding,
    choose_sources,
    load_ignores,
    load_target,
)
from imagekit.vulns import (
    scan as run_scan,
)
from imagekit.vulns.cyclonedx import render
from imagekit.vulns.online import DEFAULT_URL


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
    """One row per finding, each cell one line (names and versions come from the target)."""
    return [
        tuple(
            one_line(cell)
            for cell in (
                f.package.display_name,
                f.package.version,
                f.id + (f" ({', '.join(f.aliases)})" if f.aliases else ""),
                _severity(f),
                ", ".join(f.fixed) or "-",
            )
        )
        for f in findings
    ]


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _summary(report: ScanReport) -> str:
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
        _table([header, *_rows(report.active)])
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
    if loaded.sbom is not None:
        return load_document(loaded.sbom)
    if inventory is None:
        raise VulnError(f"{loaded.reference}: no SBOM to write the vulnerabilities into")
    return dict(json.loads(render_sbom(inventory, reproducible=True)))


@handle_errors
def scan(
    target: Annotated[
        str, typer.Argument(help="An image (tag, archive, OCI layout) or a CycloneDX JSON SBOM.")
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
    osv_url: Annotated[str, typer.Option("--osv-url", help="OSV API base URL.")] = DEFAULT_URL,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    sbom_out: Annotated[
        Path | None,
        typer.Option("--sbom-out", help="Write a CycloneDX SBOM with the vulnerabilities here."),
    ] = None,
) -> None:
    """Match the packages of an image or an SBOM against OSV vulnerability data."""
    sources = choose_sources(osv=osv or [], online=online, url=osv_url)
    rules = load_ignores(ignore) if ignore else ()
    loaded, inventory = load_target(target)
    report = run_scan(loaded, sources, ignores=rules, today=datetime.date.today())
    if sbom_out:
        write_text_atomically(sbom_out, render(_document(loaded, inventory), report, target))
    print_findings(report.warnings)
    if as_json:
        out_block(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    if sbom_out:
        err(f"wrote {sbom_out}")
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
    if failing or unread:
        raise typer.Exit(1)
