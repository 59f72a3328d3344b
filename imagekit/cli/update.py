"""`imagekit update`: a lock update, built and verified before it replaces the lock."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._options import JsonOption, ProjectArg, ReportOption, TimeoutOption
from imagekit.cli._output import UsageError, err, fail_if, handle_errors, out, out_json

if TYPE_CHECKING:
    from imagekit.update import UpdateReport


@handle_errors
def update(
    project: ProjectArg = Path(),
    packages: Annotated[
        str | None,
        typer.Option(
            "--packages",
            metavar="NAMES",
            help="Comma-separated packages to upgrade (default: all).",
        ),
    ] = None,
    security_only: Annotated[
        bool,
        typer.Option("--security-only", help="Upgrade only packages with known vulnerabilities."),
    ] = False,
    osv: Annotated[
        Path | None,
        typer.Option("--osv", help="OSV export (folder of records or all.zip) to scan with."),
    ] = None,
    force: Annotated[
        str | None,
        typer.Option(
            "--force", metavar="REASON", help="Replace the lock even if verification fails."
        ),
    ] = None,
    exclude_newer: Annotated[
        str | None,
        typer.Option(
            "--exclude-newer", metavar="DATE", help="Only releases uploaded before this date (uv)."
        ),
    ] = None,
    timeout: TimeoutOption = 300.0,
    report: ReportOption = None,
    as_json: JsonOption = False,
) -> None:
    """Update the lock if the model's outputs still match.

    Propose an updated lock (uv or poetry, the lock's own tool), build and verify it in a copy
    of the project, and replace the lock only if the model's outputs still match; exit 0
    promoted or nothing to do, 1 not promoted, 2 bad input."""
    from imagekit.daemon import docker_client
    from imagekit.update import UpdateRequest, Verdict, update_project, write_update
    from imagekit.verify import Limits

    if force is not None and not force.strip():
        raise UsageError("--force needs a reason, recorded in the report")
    if security_only and osv is None:
        raise UsageError("--security-only needs vulnerability data: --osv PATH (an OSV export)")
    names = tuple(p.strip() for p in (packages or "").split(",") if p.strip())
    request = UpdateRequest(
        packages=names,
        security_only=security_only,
        osv=osv,
        force=force,
        exclude_newer=exclude_newer,
        limits=Limits(timeout_s=timeout),
    )
    client = docker_client()
    try:
        result = update_project(project, request, client=client, progress=_progress)
    finally:
        client.close()
    path = write_update(result, report)
    if as_json:
        out_json(result.to_dict() | {"report": str(path)})
    else:
        _print_update(result, path)
    fail_if(result.verdict is Verdict.DO_NOT_PROMOTE)


def _progress(line: str) -> None:
    """imagekit's own steps and the build's `Step n/m` lines; not every line docker prints."""
    if line and not line.startswith((" ", "Removing intermediate", "Successfully")):
        err(line)


def _print_update(result: UpdateReport, path: Path) -> None:
    out(f"{result.verdict.value}: {result.lock.name}")
    for change in result.changes:
        out(f"  {change.name} {change.old or '-'} -> {change.new or '-'}")
    for reason in result.reasons:
        out(f"  {reason}")
    state = "replaced" if result.promoted else "left untouched"
    out(f"{result.lock} {state}; report {path}")
