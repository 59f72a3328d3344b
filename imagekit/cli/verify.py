"""`imagekit verify`: the model outputs of two images, or of one image against its golden."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._options import JsonOption, ProjectArg, ReportOption, TimeoutOption
from imagekit.cli._output import UsageError, fail_if, handle_errors, out, out_block, out_json

if TYPE_CHECKING:
    from imagekit.verify import VerifyReport

MemoryOption = Annotated[
    str, typer.Option("--memory", metavar="SIZE", help="Memory limit per container.")
]
CpusOption = Annotated[
    float, typer.Option("--cpus", metavar="N", help="CPUs per container.", min=0.01)
]


@handle_errors
def verify(
    project: ProjectArg = Path(),
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", metavar="IMAGE", help="The reference image (default: the golden)."
        ),
    ] = None,
    candidate: Annotated[
        str | None, typer.Option("--candidate", metavar="IMAGE", help="The image under test.")
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
    as_json: JsonOption = False,
) -> None:
    """Compare the model's outputs in two images.

    Run the model's verify command in two images (or one, against its golden outputs) on the
    same inputs and compare the outputs; exit 0 pass, 1 fail, 2 bad input."""
    from imagekit.daemon import docker_client
    from imagekit.project.spec import load_spec
    from imagekit.verify import (
        DEFAULT_GOLDEN,
        Limits,
        record_golden,
        verify_against_golden,
        verify_images,
    )
    from imagekit.verify.hooks import image_diff

    if candidate is None:
        raise UsageError("--candidate IMAGE is required")
    if record and baseline is not None:
        raise UsageError("--record takes --candidate only: it records that image's outputs")
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
    from imagekit.verify import render_text, write_markdown

    if report is not None:
        write_markdown(result, report)
    if as_json:
        out_json(result.to_dict() | ({"report": str(report)} if report is not None else {}))
    else:
        out_block(render_text(result))
        if report is not None:
            out(f"report {report} (Markdown, for a pull request or a ticket)")
    fail_if(not result.ok)
