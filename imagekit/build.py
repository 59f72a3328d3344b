"""`imagekit build`: checks, plan, base, hermetic wheelhouse, engine build, build record."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imagekit import __version__
from imagekit.backends import BackendKind, BuildResult, Progress, get_backend
from imagekit.catalog import Catalog
from imagekit.checks import run_checks
from imagekit.context import assemble
from imagekit.errors import Finding, FindingsError, Severity
from imagekit.plan import BuildPlan, make_plan

RECORD_NAME = "build.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOutcome:
    plan: BuildPlan
    result: BuildResult
    record: Path
    warnings: tuple[Finding, ...]


def build_project(
    project: Path,
    *,
    progress: Progress,
    catalog: Catalog | None = None,
    backend: BackendKind = BackendKind.DOCKER,
    cache_dir: Path | None = None,
    output: Path | None = None,
    tag: str | None = None,
    no_cache: bool = False,
) -> BuildOutcome:
    """Build the image of a model folder and write its build record.

    Raises `FindingsError` (checks), `DaemonUnavailableError`, `WheelhouseError`,
    `ContextError` or `BuildError`; on any of them no image is tagged.
    """
    checked = run_checks(project, catalog)
    if not checked.ok or checked.base is None:
        raise FindingsError(checked.findings)
    warnings = tuple(f for f in checked.findings if f.severity is Severity.WARNING)
    engine = get_backend(backend, no_cache=no_cache)
    try:
        progress(f"base {checked.base.name}")
        base_id = engine.ensure_base(checked.base, progress)
        plan = make_plan(checked).with_base_digest(base_id)
        out_dir = output or project / ".imagekit"
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="context-", dir=out_dir) as tmp:
            context = Path(tmp)
            count = sum(len(x.packages) for x in plan.python_layers)
            progress(f"fetching wheels for {count} packages")
            assemble(plan, project, context, cache_dir=cache_dir)
            result = engine.build(plan, context, tag or plan.image_ref, progress)
    finally:
        engine.close()
    record = write_record(plan, result, out_dir)
    return BuildOutcome(plan=plan, result=result, record=record, warnings=warnings)


def write_record(plan: BuildPlan, result: BuildResult, out_dir: Path) -> Path:
    """The build record beside the image: plan, lock and base digests, the image id."""
    record = {
        "imagekit": __version__,
        "image": result.tag,
        "image_id": result.image_id,
        "size": result.size,
        "layers": list(result.layers),
        "plan_sha256": plan.sha256,
        "lock_sha256": plan.lock_sha256,
        "base": {
            "name": plan.base.name,
            "reference": plan.base.reference,
            "digest": plan.base.digest,
        },
        "plan": plan.to_dict(),
    }
    path = out_dir / RECORD_NAME
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    (out_dir / "plan.json").write_text(plan.to_json(), encoding="utf-8")
    return path
