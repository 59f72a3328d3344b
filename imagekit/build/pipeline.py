"""`imagekit build`: checks, plan, base, hermetic wheelhouse, engine build, build record."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imagekit import __version__
from imagekit.build.backends import BackendKind, BuildResult, Outputs, Progress, get_backend
from imagekit.build.context import assemble
from imagekit.build.provenance import BuildRun, write_provenance
from imagekit.cache import configured_limit, format_size, prune_to_limit
from imagekit.cachedir import cache_root
from imagekit.errors import Finding, FindingsError
from imagekit.fsio import write_json, write_text
from imagekit.gpu import CompatReport
from imagekit.inventory import read_inventory
from imagekit.inventory.scancache import ScanCache
from imagekit.licenses import LicensePolicy, Verdict, components_from_inventory, evaluate
from imagekit.plan.catalog import Catalog
from imagekit.plan.model import BuildPlan
from imagekit.plan.prepare import prepare
from imagekit.project.spec import ModelSpec
from imagekit.sbom import write_sbom
from imagekit.workdir import owned_dir

RECORD_NAME = "build.json"
SBOM_NAME = "sbom.cdx.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOutcome:
    plan: BuildPlan
    result: BuildResult
    record: Path
    warnings: tuple[Finding, ...]
    compat: CompatReport | None = None  # the verdict for the project's fleet, if it names one
    sbom: Path | None = None  # the CycloneDX SBOM written beside the image
    provenance: Path | None = None  # its SLSA v1 provenance, an in-toto statement


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
    outputs: Outputs | None = None,
    allow_incompatible: str | None = None,
) -> BuildOutcome:
    """Build the image of a model folder and write its build record.

    `outputs`: where the oci backend puts its layout (default `<output>/oci`), a docker-archive,
    and whether it loads the image into a daemon.
    When the spec names a fleet, some pool of it must run the planned image, unless
    `allow_incompatible` gives the reason to build anyway (kept in the build record).
    Raises `FindingsError` (checks, or a conflict in the spec's deployment registry),
    `InputError` (the fleet file), `IncompatibleError` (no pool of the fleet runs it),
    `DaemonUnavailableError`, `WheelhouseError`,
    `ContextError`, `BuildError` or `OciError`; on any of them no image is tagged.
    With $IMAGEKIT_CACHE_MAX_SIZE set, the caches are pruned to it once the build is done
    (`CacheError` before any work when it holds no size).
    """
    limit = configured_limit()
    # Before any engine runs: the verdict `imagekit check` gives, deployment, fleet and licence
    # policy included; a model they refuse is never built or tagged.
    checked = prepare(
        project, catalog=catalog, cache_dir=cache_dir, allow_incompatible=allow_incompatible
    )
    warnings = checked.warnings
    planned, compat = checked.plan, checked.compat
    engine = get_backend(backend, no_cache=no_cache, outputs=outputs)
    started = datetime.datetime.now(datetime.UTC)
    try:
        progress(f"base {checked.base.name}")
        base_id = engine.ensure_base(checked.base, progress)
        plan = planned.with_base_digest(base_id)
        out_dir = output or project / ".imagekit"
        out_dir.mkdir(parents=True, exist_ok=True)
        with owned_dir(out_dir, "context-") as context:  # swept by the next build if killed
            taken = engine.cached_layers(plan, progress)
            count = sum(len(x.packages) for x in plan.python_layers if x.name not in taken)
            progress(f"fetching wheels for {count} packages")
            wheels = assemble(plan, project, context, cache_dir=cache_dir, prefetched=taken,
                              tools=engine.capabilities.build_tools)  # fmt: skip
            result = engine.build(plan, context, tag or plan.image_ref, progress)
        progress("reading the image back: inventory, SBOM, licences")
        sbom = document_image(
            result.readable, checked.spec, out_dir, withdraw=lambda: engine.withdraw(result)
        )
    finally:
        engine.close()
    record = write_record(plan, result, out_dir, compat=compat_record(compat, allow_incompatible))
    run = BuildRun(
        backend=backend.value,
        image=result.tag,
        image_id=result.image_id,
        started=started,
        finished=datetime.datetime.now(datetime.UTC),
    )
    provenance = write_provenance(plan, run, wheels, out_dir, sbom=sbom)
    _prune_caches(limit, progress)
    return BuildOutcome(
        plan=plan,
        result=result,
        record=record,
        warnings=warnings,
        compat=compat,
        sbom=sbom,
        provenance=provenance,
    )


def _prune_caches(limit: int | None, progress: Progress) -> None:
    """The caches pruned to `limit` (least recently used first), said when anything went."""
    pruned = prune_to_limit(cache_root(), limit)
    if pruned is not None and pruned.removed:
        progress(
            f"cache: removed {len(pruned.removed)} least recently used entries, "
            f"{format_size(pruned.freed)}, to stay under {format_size(limit or 0)}"
        )


def document_image(
    image: str, spec: ModelSpec, out_dir: Path, *, withdraw: Callable[[], None]
) -> Path:
    """Write the SBOM of the built image beside it, read from the image's own files, and apply
    the project's licence policy; a denied licence withdraws the image (no tag is left) and
    raises `FindingsError` naming the package, its licence and the policy entry."""
    scans = ScanCache.default()
    inventory = read_inventory(image, scans=scans)
    sbom = write_sbom(inventory, out_dir / SBOM_NAME, reproducible=True, memo=scans)
    if spec.license_policy is not None:
        report = evaluate(
            components_from_inventory(inventory), LicensePolicy.load(spec.license_policy)
        )
        if not report.ok:
            withdraw()
            raise FindingsError(tuple(d.finding() for d in report.of(Verdict.DENY)))
    return sbom


def compat_record(report: CompatReport | None, reason: str | None) -> dict[str, object] | None:
    """What the build record keeps of the fleet check."""
    if report is None:
        return None
    return {
        "runnable": report.runnable,
        "allow_incompatible": reason or None,
        "pools": [p.to_dict() for p in report.pools],
        "cuda": report.summary.to_dict(),
    }


def write_record(
    plan: BuildPlan,
    result: BuildResult,
    out_dir: Path,
    *,
    compat: dict[str, object] | None = None,
) -> Path:
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
        "compat": compat,
    }
    write_text(out_dir / "plan.json", plan.to_json())
    return write_json(out_dir / RECORD_NAME, record)
