"""`imagekit verify` (model outputs of two images, or of one image against its golden) and
`imagekit update` (a lock update, built and verified before it replaces the lock)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from imagekit.cli._output import err, handle_errors, out, out_block
from imagekit.daemon import docker_client
from imagekit.project.spec import load_spec
from imagekit.update import UpdateReport, UpdateRequest, Verdict, render_update, update_project
from imagekit.verify import (
    DEFAULT_GOLDEN,
    Limits,
    VerifyReport,
    record_golden,
    render_markdown,
    render_text,
    verify_against_golden,
    verify_images,
)
from imagekit.verify.hooks import image_diff

UPDATE_REPORT = Path(".imagekit") / "update" / "report.md"  # under the model folder
ProjectArg = Annotated[Path, typer.Argument(help="The model folder (holding imagekit.toml).")]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds the command may run in each image.", min=1)
]
MemoryOption = Annotated[str, typer.Option("--memory", help="Memory limit per container.")]
CpusOption = Annotated[float, typer.Option("--cpus", help="CPUs per container.", min=0.01)]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Write the Markdown report to FILE.")
]


def _usage(message: str) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(2)


@handle_errors
def verify(
    project: ProjectArg = Path(),
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="The reference image (default: the golden).")
    ] = None,
    candidate: Annotated[
        str | None, typer.Option("--candidate", help="The image under test.")
    ] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Record the candidate's outputs as the golden.")
    ] = False,
    golden: Annotated[
        Path | None,
        typer.Option(
            "--golden", help="Golden folder (default: <project>/.imagekit/verify/golden)."
        ),
    ] = None,
    timeout: TimeoutOption = 300.0,
    memory: MemoryOption = "4g",
    cpus: CpusOption = 2.0,
    report: ReportOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run the model's verify command in two images (or one, against its golden outputs) on
    the same inputs and compare the outputs; exit 0 pass, 1 fail, 2 bad input."""
    if candidate is None:
        raise _usage("--candidate IMAGE is required")
    if record and baseline is not None:
        raise _usage("--record takes --candidate only: it records that image's outputs")
    spec = load_spec(project)
    folder = golden or spec.root / DEFAULT_GOLDEN
    limits = Limits(timeout_s=timeout, memory=memory, cpus=cpus)
    client = docker_client()
    try:
        if record:
            manifest = record_golden(
                spec, candidate=candidate, golden=folder, client=client, limits=limits
            )
            names = ", ".join(o.name for o in manifest.outputs)
            out(f"recorded {names} of {candidate} ({manifest.image_id}) in {folder}")
            return
        if baseline is None:
            result = verify_against_golden(
                spec,
                candidate=candidate,
                golden=folder,
                client=client,
                limits=limits,
                diff=image_diff,
            )
        else:
            result = verify_images(
                spec,
                baseline=baseline,
                candidate=candidate,
                client=client,
                limits=limits,
                diff=image_diff,
            )
    finally:
        client.close()
    _show(result, report, as_json)


def _show(result: VerifyReport, report: Path | None, as_json: bool) -> None:
    if report is not None:
        report.write_text(render_markdown(result), encoding="utf-8")
    if as_json:
        out_block(json.dumps(result.to_dict(), indent=2))
    else:
        out_block(render_text(result))
    if not result.ok:
        raise typer.Exit(1)


@handle_errors
def update(
    project: ProjectArg = Path(),
    packages: Annotated[
        str | None,
        typer.Option("--packages", help="Comma-separated packages to upgrade (default: all)."),
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
        typer.Option("--exclude-newer", help="Only releases uploaded before this date (uv)."),
    ] = None,
    timeout: TimeoutOption = 300.0,
    report: ReportOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Propose an updated lock (uv or poetry, the lock's own tool), build and verify it in a
    copy of the project, and replace the lock only if the model's outputs still match; exit 0
    promoted or nothing to do, 1 not promoted, 2 bad input."""
    if force is not None and not force.strip():
        raise _usage("--force needs a reason, recorded in the report")
    if security_only and osv is None:
        raise _usage("--security-only needs vulnerability data: --osv PATH (an OSV export)")
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
    path = report or result.project / UPDATE_REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_update(result), encoding="utf-8")
    if as_json:
        out_block(json.dumps(result.to_dict() | {"report": str(path)}, indent=2))
    else:
        _print_update(result, path)
    if result.verdict is Verdict.DO_NOT_PROMOTE:
        raise typer.Exit(1)


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
