"""`imagekit build`: build a model folder's image."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit import progress
from imagekit.build.backends import (
    BackendKind,
    ImageHome,
    Outputs,
    capabilities,
    choose_backend,
)
from imagekit.cli._faults import ExitCode
from imagekit.cli._options import (
    CatalogOption,
    QuietOption,
    VerboseOption,
    load_catalog,
)
from imagekit.cli._output import (
    ProgressLines,
    UsageError,
    fail_if,
    handle_errors,
    out,
    out_json,
    print_findings,
    table,
)
from imagekit.image.model import Compression

if TYPE_CHECKING:
    from imagekit.build.backends import BuildResult
    from imagekit.build.fleet import FleetReport
    from imagekit.build.many import Fleet, ModelBuild
    from imagekit.gpu import CompatReport


def _able(capability: str) -> str:
    """The backends that have `capability` (a `Capabilities` flag), as `--backend` takes them."""
    return " or ".join(k.value for k in BackendKind if getattr(capabilities(k), capability))


def size_label(n: int, home: ImageHome) -> str:
    """`n` bytes, said as what they count: a layout's blobs are compressed, a daemon's image
    unpacked (the engine's `Size`)."""
    return f"{_size(n)} {'unpacked' if home is ImageHome.DAEMON else 'compressed'}"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1000
    return f"{n} B"


def _print_compat(report: CompatReport | None) -> None:
    from imagekit.gpu.compat import NO_CUDA

    if report is None:
        return
    if report.summary.cuda is None:
        out(f"fleet: {NO_CUDA}")
        return
    for verdict in report.pools:
        out(f"pool {verdict.pool.name}: {verdict.verdict.value}: {verdict.reason}")


def _reason(text: str | None) -> str | None:
    if text is not None and not text.strip():
        raise UsageError("--allow-incompatible: give the reason to build anyway")
    return text


@handle_errors
def build(
    project: Annotated[Path, typer.Argument(help="The model folder.")] = Path(),
    backend: Annotated[
        BackendKind | None,
        typer.Option(
            help="Build engine (default: docker if a daemon answers, else oci); docker and oci "
            "make the same image, buildah and dockerfile build the rendered Dockerfile."
        ),
    ] = None,
    tag: Annotated[
        str | None, typer.Option(metavar="NAME:TAG", help="Image tag (default: name:version).")
    ] = None,
    catalog: CatalogOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Where the build record goes (default: <project>/.imagekit)."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Rebuild every layer; reuse none.")
    ] = False,
    oci_dir: Annotated[
        Path | None,
        typer.Option("--oci-dir", help="oci, docker: the OCI layout (default: <output>/oci)."),
    ] = None,
    archive: Annotated[
        Path | None,
        typer.Option("--archive", help="oci, docker: also write a docker-archive tarball here."),
    ] = None,
    load: Annotated[
        bool,
        typer.Option("--load", help="oci backend: also load the image into the Docker daemon."),
    ] = False,
    allow_incompatible: Annotated[
        str | None,
        typer.Option(
            "--allow-incompatible",
            metavar="REASON",
            help="Build even if no pool of the project's fleet can run the image; the reason "
            "goes into the build record.",
        ),
    ] = None,
    reproducible: Annotated[
        bool,
        typer.Option(
            "--check-reproducible",
            help="Build twice from clean state (oci backend, no layer cache) and compare the "
            "images; name the first difference and exit 1 if they differ.",
        ),
    ] = False,
    all_models: Annotated[
        bool,
        typer.Option("--all", help="Build every model folder under PROJECT; print a summary."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            metavar="N",
            help="--all with the oci or docker backend: models built at once.",
        ),
    ] = None,
    compression: Annotated[
        Compression,
        typer.Option(
            "--compression",
            help="oci, docker: layer compression; zstd is smaller and faster to unpack, for "
            "registries and engines that take it (Docker Engine 23.0 and later).",
        ),
    ] = Compression.GZIP,
    cache: Annotated[
        str | None,
        typer.Option(
            "--cache",
            metavar="REGISTRY/REPOSITORY",
            help="oci, docker: share layers and bases through this registry repository: take "
            "the ones it has (no wheel fetched, no layer compressed), push the ones built here.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="--all: print the builds and the fleet report as JSON.")
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check, plan and build the image; write its build record."""
    if as_json and not all_models:
        raise UsageError("--json needs --all")
    if reproducible or all_models:
        given = {"--output": output, "--oci-dir": oci_dir, "--archive": archive, "--load": load,
                 "--compression zstd": compression is Compression.ZSTD,
                 "--cache": cache and reproducible}  # fmt: skip
        _refuse(given, "--check-reproducible" if reproducible else "--all")
    with progress.shown(progress.Display(quiet=quiet, verbose=verbose)):
        if reproducible:
            _check(project, backend or BackendKind.OCI, tag, catalog, quiet)
        elif all_models:
            _build_all(project, backend, jobs, catalog, tag, quiet=quiet, no_cache=no_cache,
                       as_json=as_json, cache=cache)  # fmt: skip
        else:
            _build_one(
                project,
                ProgressLines(quiet),
                backend=backend,
                tag=tag,
                catalog=catalog,
                output=output,
                no_cache=no_cache,
                outputs=Outputs(
                    oci_dir=oci_dir,
                    archive=archive,
                    load=load,
                    compression=compression,
                    cache=cache,
                ),
                allow_incompatible=_reason(allow_incompatible),
            )


def _build_one(
    project: Path,
    lines: ProgressLines,
    *,
    backend: BackendKind | None,
    tag: str | None,
    catalog: Path | None,
    output: Path | None,
    no_cache: bool,
    outputs: Outputs,
    allow_incompatible: str | None,
) -> None:
    """Build one model and say where its image, record and SBOM went, and how to use them."""
    from imagekit.build.pipeline import build_project

    kind = backend or choose_backend(lines)
    if outputs.compression is Compression.ZSTD and not capabilities(kind).zstd:
        raise UsageError(
            f"--compression zstd needs --backend {_able('zstd')}; {kind.value} writes gzip layers"
        )
    _check_cache(outputs.cache, kind)
    outcome = build_project(
        project,
        progress=lines,
        backend=kind,
        tag=tag,
        catalog=load_catalog(catalog),
        output=output,
        no_cache=no_cache,
        outputs=outputs,
        allow_incompatible=allow_incompatible,
    )
    print_findings(outcome.warnings)
    _print_compat(outcome.compat)
    result = outcome.result
    out(
        f"built {result.tag}  {result.image_id}  {size_label(result.size, result.home)}  "
        f"{len(result.layers)} layers"
    )
    for line in where_to(result, outputs):
        out(line)
    out(f"record {outcome.record}")
    if outcome.sbom is not None:
        out(f"sbom   {outcome.sbom}  (imagekit scan / imagekit licenses read it)")
    if outcome.provenance is not None:
        out(f"provenance {outcome.provenance}  (imagekit attach REF FILE puts it in a registry)")


def _check_cache(cache: str | None, kind: BackendKind) -> None:
    if cache and not capabilities(kind).layer_cache:
        raise UsageError(
            f"--cache needs --backend {_able('layer_cache')}; {kind.value} makes its layers "
            "from the Dockerfile and cannot take them from a registry"
        )


def where_to(result: BuildResult, outputs: Outputs) -> list[str]:
    """Where the image is, and the commands that run and push it from there."""
    layout = result.layout or (result.location if result.home is ImageHome.LAYOUT else "")
    if result.home is ImageHome.DAEMON:
        lines = [f"image  in the Docker daemon as {result.tag}"]
        if layout:
            lines.append(f"       and the same image as the OCI layout {layout}")
    else:
        lines = [f"image  OCI layout {layout} (ref {result.tag})"]
    if outputs.archive is not None:
        archive = outputs.archive
        lines.append(f"       docker-archive {archive}: docker load -i {archive}")
    if result.home is ImageHome.DAEMON or outputs.load:
        lines.append(f"run    docker run --rm {result.tag}")
    else:
        lines.append(f"run    podman run --rm oci:{layout}:{result.tag}")
    # a layout's blobs are compressed already: pushing from it compresses nothing again
    lines.append(f"push   imagekit push {layout or result.tag} REGISTRY/REPOSITORY:TAG")
    return lines


def _refuse(given: Mapping[str, object], mode: str) -> None:
    for flag, value in given.items():
        if value:
            raise UsageError(f"{flag} cannot be used with {mode}")


def _check(
    project: Path, backend: BackendKind, tag: str | None, catalog: Path | None, quiet: bool
) -> None:
    from imagekit.build.reproducible import check_reproducible

    check = check_reproducible(
        project,
        progress=ProgressLines(quiet),  # two builds, each line says which
        backend=backend,
        tag=tag,
        catalog=load_catalog(catalog),
    )
    if check.reproducible:
        out(f"reproducible: {check.first}")
        return
    out(f"not reproducible: {check.first} != {check.second}")
    if check.difference is not None:
        out(check.difference.describe())
    raise typer.Exit(ExitCode.FAILED)


def _build_all(
    root: Path,
    backend: BackendKind | None,
    jobs: int | None,
    catalog: Path | None,
    tag: str | None,
    *,
    quiet: bool,
    no_cache: bool,
    as_json: bool,
    cache: str | None,
) -> None:
    from imagekit.build.fleet import fleet_report
    from imagekit.build.many import build_all, effective_jobs

    if tag is not None:
        raise UsageError("--tag cannot be used with --all")
    lines = ProgressLines(quiet)  # prefixed with the model name, one model or many at once
    kind = backend or choose_backend(lines)
    if jobs is not None and effective_jobs(kind, jobs) != jobs:
        lines(f"--jobs {jobs}: the {kind.value} backend builds one model at a time")
    _check_cache(cache, kind)
    fleet = build_all(root, backend=kind, jobs=jobs, progress=lines, cache=cache,
                      catalog=load_catalog(catalog), no_cache=no_cache)  # fmt: skip
    report = fleet_report({b.name: b.layers for b in fleet.builds if b.layers})
    if as_json:
        out_json(fleet_json(fleet, report))
    else:
        for line in summary_table(fleet.builds, capabilities(kind).home):
            out(line)
        if report.models:
            out()
            for line in layers_table(report):
                out(line)
            out(report.summary(_size))
    fail_if(not all(b.ok for b in fleet.builds))


def fleet_json(fleet: Fleet, report: FleetReport) -> dict[str, object]:
    """`build --all --json`: every model's build, the fleet plan and the layer report."""
    builds = [
        {"model": b.name, "image": b.image or None, "image_id": b.image_id or None,
         "size": b.size, "seconds": round(b.seconds, 3), "error": b.error or None}
        for b in fleet.builds
    ]  # fmt: skip
    plan = {"distinct": len(fleet.plan.distinct), "common": len(fleet.plan.common)}
    return {"builds": builds, "plan": plan, "layers": report.to_dict()}


def layers_table(report: FleetReport) -> list[str]:
    """Per model: the layers it wrote, those it took (from another model of the run, the
    layer cache or the registry's) and the bytes of its layers other models share."""
    rows = [("MODEL", "BUILT", "SHARED IN RUN", "FROM CACHE", "SHARED BYTES")]
    for m in report.models:
        fleet = [u.layer for u in m.taken if u.source.value == "fleet"]
        cached = [u.layer for u in m.taken if u.source.value != "fleet"]
        built = f"{len(m.built)} ({_size(m.built_bytes)})"
        rows.append((m.model, built, _names(fleet), _names(cached), _size(m.shared_bytes)))
    return table(rows)


def _names(layers: list[str]) -> str:
    return f"{len(layers)}: {', '.join(layers)}" if layers else "0"


def summary_table(builds: tuple[ModelBuild, ...], home: ImageHome) -> list[str]:
    """model, image, short id, size (compressed or unpacked, as `home` keeps images), time,
    status: one aligned row per model."""
    kind = "UNPACKED" if home is ImageHome.DAEMON else "COMPRESSED"
    rows = [("MODEL", "IMAGE", "ID", f"SIZE ({kind})", "TIME", "STATUS")]
    for b in builds:
        short = b.image_id.removeprefix("sha256:")[:12]
        status = "ok" if b.ok else f"FAILED: {b.error}"
        size = _size(b.size) if b.ok else "-"
        rows.append((b.name, b.image or "-", short or "-", size, f"{b.seconds:.1f}s", status))
    return table(rows)
