"""Commands on one model folder: init, check, plan, render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cli._faults import ExitCode
from imagekit.cli._options import CatalogOption, JsonOption, ProjectArg, load_catalog
from imagekit.cli._output import err, findings_json, handle_errors, out, out_block, print_findings
from imagekit.errors import UNREADABLE

if TYPE_CHECKING:
    from imagekit.plan.model import BuildPlan


def planned(project: Path, catalog: Path | None) -> BuildPlan:
    """Check and plan the project, print the warnings; raises as `prepare` does."""
    from imagekit.plan.prepare import prepare

    ready = prepare(project, load_catalog(catalog))
    print_findings(ready.warnings)
    return ready.plan


@handle_errors
def check(
    project: ProjectArg = Path(), catalog: CatalogOption = None, as_json: JsonOption = False
) -> None:
    """Run every pre-build check.

    Exit 0 clean, 1 findings, 2 unreadable input."""
    from imagekit.plan.prepare import check_project

    result = check_project(project, load_catalog(catalog))
    errors = result.errors
    if as_json:
        out_block(findings_json(result.findings))
    else:
        print_findings(result.findings)
        if result.project is not None and not errors:
            out(
                f"{result.spec.file}: ok ({len(result.packages)} packages from "
                f"{result.project.lock.path.name}, base {result.project.base.name})"
            )
        else:
            err(f"{len(errors)} error(s)")
    if errors:
        # A file that cannot be read at all is a usage problem, not a finding about the model.
        unreadable = any(f.rule == UNREADABLE for f in errors)
        raise typer.Exit(ExitCode.INPUT if unreadable else ExitCode.FAILED)


@handle_errors
def plan(
    project: ProjectArg = Path(), catalog: CatalogOption = None, as_json: JsonOption = False
) -> None:
    """Show the build plan: base, layers, env and labels.

    The base, the layers from the least to the most often changed, the environment, the
    entrypoint and the labels the image will carry."""
    build_plan = planned(project, catalog)
    if as_json:
        out_block(build_plan.to_json())
        return
    for line in plan_lines(build_plan):
        out(line)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def plan_lines(build_plan: BuildPlan) -> list[str]:
    """The plan for a person: the image, each layer with what it holds, CUDA, then what the
    container starts with (user, workdir, entrypoint, cmd, ports), its environment and labels."""
    lines = [f"{build_plan.image_ref} on {build_plan.base.name} ({build_plan.platform})"]
    for i, layer in enumerate(build_plan.layers, 1):
        if layer.packages:
            what = _count(len(layer.packages), "package")
        elif layer.files:
            what = _count(len(layer.files), "file")
        else:
            what = _count(len(layer.system), "apt package")
        lines.append(f"  {i}. {layer.name:<20} {what}")
    if build_plan.cuda:
        lines.append(f"  CUDA {build_plan.cuda.version}, driver >= {build_plan.cuda.min_driver}")
    lines.append(f"user {build_plan.user} ({build_plan.uid}), workdir {build_plan.workdir}")
    lines.append(f"entrypoint {json.dumps(list(build_plan.entrypoint))}")
    if build_plan.cmd:
        lines.append(f"cmd {json.dumps(list(build_plan.cmd))}")
    if build_plan.ports:
        lines.append("ports " + ", ".join(str(p) for p in build_plan.ports))
    for title, pairs in (("env", build_plan.env), ("labels", build_plan.labels)):
        lines.append(f"{title}:" if pairs else f"{title}: none")
        lines.extend(f"  {key}={value}" for key, value in pairs)
    return lines


@handle_errors
def render(
    project: ProjectArg = Path(),
    catalog: CatalogOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Folder (default: <project>/.imagekit).")
    ] = None,
) -> None:
    """Write the Dockerfile and .dockerignore of the plan."""
    from imagekit.plan.render import write_rendered

    build_plan = planned(project, catalog)
    dockerfile, _ = write_rendered(build_plan, output or project / ".imagekit")
    out(str(dockerfile))


@handle_errors
def init(
    project: ProjectArg = Path(),
    base: Annotated[
        str, typer.Option(metavar="NAME", help="Catalog base image.")
    ] = "debian-bookworm-py311",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing imagekit.toml.")
    ] = False,
) -> None:
    """Write an imagekit.toml for a folder with a lockfile."""
    from imagekit.project.init import scaffold

    path = scaffold(project, base=base, force=force)
    out(f"wrote {path}; review it, then run `imagekit check {project}`")


def register(app: typer.Typer) -> None:
    for command in (init, check, plan, render):
        app.command(command.__name__)(command)
