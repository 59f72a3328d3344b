"""`imagekit conflicts lock|deploy`: versions that cannot work together, in one lock or across
the models of a deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._options import CatalogOption, JsonOption, ProjectArg, load_catalog
from imagekit.cli._output import (
    err,
    fail_if,
    findings_json,
    handle_errors,
    out,
    out_block,
    out_json,
    print_findings,
)
from imagekit.errors import Finding, Severity

app = typer.Typer(
    help="Versions that cannot work together.\n\nWithin one lock, or across deployed models.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _finish(findings: tuple[Finding, ...], as_json: bool, summary: str) -> None:
    """Print the findings (JSON on stdout, or lines on stderr) and exit 1 on any error."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if as_json:
        out_block(findings_json(findings))
    else:
        print_findings(findings)
        (err if errors else out)(summary)
    fail_if(bool(errors))


@app.command("lock")
@handle_errors
def lock(
    project: ProjectArg = Path(),
    catalog: CatalogOption = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Wheel cache (default: the user's).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every locked wheel's requirements.

    Each requirement of every locked wheel is checked against the lock and the base; exit 0
    clean, 1 conflicts, 2 unreadable input or unfetchable wheels."""
    from imagekit.conflicts import check_project_lock

    result = check_project_lock(project, catalog=load_catalog(catalog), cache_dir=cache_dir)
    conflicts = sum(1 for f in result.findings if f.severity is Severity.ERROR)
    summary = (
        f"{result.lock.name}: {result.read} packages, {len(result.edges)} requirements "
        f"checked for {result.target}: "
        + (f"{conflicts} conflict(s)" if conflicts else "no conflicts")
    )
    _finish(result.findings, as_json, summary)


@app.command("deploy")
@handle_errors
def deploy(
    registry: Annotated[Path, typer.Argument(help="The deployment registry (TOML).")],
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Report models that must not be deployed together.

    Exit 0 none, 1 some, 2 an unreadable registry or a model it names that does not exist."""
    from imagekit.conflicts import check_deployment, load_registry

    report = check_deployment(load_registry(registry), catalog=load_catalog(catalog))
    if as_json:
        out_json(report.to_dict())
        fail_if(bool(report.conflicts))
        return
    count = len(report.conflicts)
    summary = f"{registry}: {report.models} models, " + (
        f"{count} conflicting pair(s)" if count else "no conflicts"
    )
    _finish(report.findings, as_json=False, summary=summary)
