"""`imagekit probe` and `imagekit compat`: the GPUs and driver here, and whether an image runs
on them or on each node pool of a fleet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._faults import ExitCode
from imagekit.cli._options import JsonOption
from imagekit.cli._output import (
    UsageError,
    err,
    handle_errors,
    out,
    out_block,
    out_json,
    print_findings,
)
from imagekit.errors import Severity

if TYPE_CHECKING:
    from imagekit.gpu import CompatReport, Pool
    from imagekit.gpu.probe import HostProbe

GIB = 1024**3


def _gpu_line(host: HostProbe) -> list[str]:
    lines = [f"driver {host.driver} (supports CUDA {host.cuda}), {len(host.gpus)} GPU(s)"]
    for g in host.gpus:
        mig = g.mig_current.value
        if g.mig_pending is not g.mig_current:
            mig += f", {g.mig_pending.value} after reset"
        persistence = {True: "on", False: "off", None: "not supported"}[g.persistence]
        lines.append(
            f"  GPU {g.index}: {g.name}  {g.uuid}  {g.memory_total / GIB:.1f} GiB  "
            f"compute capability {g.compute_capability}  MIG {mig}  persistence {persistence}"
        )
    return lines


@handle_errors
def probe(as_json: JsonOption = False) -> None:
    """Show the NVIDIA driver, its CUDA version and each GPU.

    Read through NVML. Exit 0; 4 when this machine has no NVIDIA driver; 5 when NVML fails.
    """
    from imagekit.gpu.probe import NoDriverError
    from imagekit.gpu.probe import probe as run_probe

    try:
        host = run_probe()
    except NoDriverError as e:
        if as_json:
            out_block(json.dumps({"driver": None, "error": "no-driver", "message": str(e)}))
        err(str(e))
        raise typer.Exit(e.exit_code) from None
    if as_json:
        out_json(host.to_dict())
        return
    for line in _gpu_line(host):
        out(line)


def _summary_lines(report: CompatReport) -> list[str]:
    s = report.summary
    if s.cuda is None:
        return [f"{report.image}: no CUDA in the image: runs anywhere, no driver needed"]
    lines = [f"{report.image}: CUDA {s.cuda}"]
    if s.min_driver:
        lines.append(f"  needs driver >= {s.min_driver} ({s.min_driver_release})")
    if s.minor_compat_driver:
        lines.append(f"  or >= {s.minor_compat_driver} with minor version compatibility")
    lines += [f"  runtime: {r.label} (CUDA {r.cuda}) at {r.where}" for r in s.runtimes]
    for f in s.frameworks:
        archs = ";".join(str(a) for a in f.archs) if f.archs else "unknown"
        lines.append(f"  framework: {f.label}, CUDA {f.cuda}, kernels for {archs}")
    lines += [f"  note: {n}" for n in s.notes]
    return lines


def _pool_lines(report: CompatReport) -> list[str]:
    lines = []
    for v in report.pools:
        p = v.pool
        lines.append(f"pool {p.name} (driver {p.driver}, {p.label}): {v.verdict.value}")
        lines.append(f"  {v.reason}")
        lines += [f"  limit: {limit}" for limit in v.limits]
    return lines


def _pools(host: bool, fleet: Path | None) -> tuple[Pool, ...]:
    from imagekit.gpu import host_pools, knowledge_base
    from imagekit.gpu import load_fleet as read_fleet
    from imagekit.gpu.probe import probe as run_probe

    kb = knowledge_base()
    if fleet is not None:
        return read_fleet(fleet, kb)
    if host:
        return host_pools(run_probe(), kb)
    return ()


def _exit_code(report: CompatReport, judged: bool) -> ExitCode:
    errors = any(f.severity is Severity.ERROR for f in report.summary.findings)
    return ExitCode.FAILED if errors or (judged and not report.runnable) else ExitCode.OK


@handle_errors
def compat(
    image: Annotated[str, typer.Argument(help="Image: tag, OCI layout, docker archive, rootfs.")],
    host: Annotated[bool, typer.Option("--host", help="Judge against this machine.")] = False,
    fleet: Annotated[
        Path | None, typer.Option("--fleet", help="Judge against each pool of a fleet file.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Say which drivers and GPUs can run an image's CUDA.

    The drivers and GPUs the image's CUDA needs, and whether the host or each pool of a
    fleet runs it. Exit 0 it runs (somewhere); 1 refused everywhere, or mismatched CUDA in the
    image; 2 bad input; 4 --host without an NVIDIA driver.
    """
    from imagekit.gpu import compat_of_inventory
    from imagekit.inventory import read_inventory

    if host and fleet is not None:
        raise UsageError("choose one of --host and --fleet")
    pools = _pools(host, fleet)
    report = compat_of_inventory(read_inventory(image), pools)
    if as_json:
        out_json(report.to_dict())
    else:
        for line in _summary_lines(report) + _pool_lines(report):
            out(line)
        print_findings(report.summary.findings)
    raise typer.Exit(_exit_code(report, host or fleet is not None))
