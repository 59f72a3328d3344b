"""`imagekit update`: propose a lock, build it in a copy, test it against the model's
behaviour, and replace the lock only when the outputs still match (or the user forces it).

The original model folder is never edited except for that final replacement of the lock;
the candidate lives in `<project>/.imagekit/update/candidate`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import docker
import docker.errors

from imagekit.build.pipeline import build_project
from imagekit.errors import FindingsError, ImagekitError, Severity
from imagekit.fsio import copy_file
from imagekit.plan.catalog import Catalog
from imagekit.plan.prepare import check_project
from imagekit.project.lockfile import Lock, read_lock
from imagekit.project.spec import ModelSpec
from imagekit.update.lock import (
    UpdateError,
    changes_between,
    compile_command,
    find_layout,
    pinned_directly,
    run_compile,
)
from imagekit.update.report import UpdateReport, Verdict
from imagekit.update.security import Vulnerable, image_scan_summary, vulnerable_in
from imagekit.verify import Limits, verify_images
from imagekit.verify.hooks import image_diff

CANDIDATE_DIR = Path(".imagekit") / "update" / "candidate"
LOCK_LABEL = "io.imagekit.lock.sha256"

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateRequest:
    """What to update, and how."""

    packages: tuple[str, ...] = ()  # () with security_only False: every package
    security_only: bool = False
    osv: Path | None = None  # an OSV export: --security-only and the scan step
    force: str | None = None  # promote even when verification fails, for this reason
    exclude_newer: str | None = None  # uv --exclude-newer: a repeatable resolution
    limits: Limits = field(default_factory=Limits)
    catalog: Catalog | None = None


def update_project(
    project: Path, request: UpdateRequest, *, client: docker.DockerClient, progress: Progress
) -> UpdateReport:
    """Propose, build, check, scan, diff and verify an updated lock; replace the lock only on
    a passing verification (or `request.force`).

    Raises `FindingsError` when the current project fails its checks, `UpdateError` for an
    unsupported layout or a failed resolution. A candidate that fails to check, build or
    verify is a do-not-promote verdict in the report, not an exception.
    """
    current = _current(project, request.catalog)
    spec, lock = current.spec, current.lock
    layout = find_layout(lock, spec.root)
    vulnerable, upgrade = _what_to_upgrade(lock, request)
    argv = compile_command(
        layout,
        spec.root,
        python_version=current.python,
        upgrade=upgrade,
        exclude_newer=request.exclude_newer,
    )
    report = UpdateReport(
        project=spec.root,
        lock=spec.lockfile,
        command=argv,
        verdict=Verdict.NO_CHANGE,
        reasons=(),
        requested=upgrade,
        vulnerable=vulnerable,
        forced=request.force,
        pinned=pinned_directly(layout.source, request.packages),
        companions=layout.companions(),
    )
    if request.security_only and not vulnerable:
        return replace(report, reasons=("no known vulnerability in the lock",))
    candidate = _candidate_copy(spec.root)
    progress(f"resolving: {' '.join(argv)}")
    run_compile(argv, candidate)
    new_lock = read_lock(candidate / spec.lockfile.relative_to(spec.root))
    report = replace(report, changes=changes_between(lock, new_lock), candidate_dir=candidate)
    if not report.changes:
        return replace(report, reasons=("the resolution gives the same versions",))
    return _evaluate(
        current, report, request, candidate=candidate, client=client, progress=progress
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Current:
    """The project as it is: its spec, its lock, and its base's Python as X.Y."""

    spec: ModelSpec
    lock: Lock
    python: str


def _current(project: Path, catalog: Catalog | None) -> _Current:
    checked = check_project(project, catalog)
    if not checked.ok or checked.project is None:
        raise FindingsError(checked.findings)
    spec, lock, version = checked.spec, checked.project.lock, checked.project.base.python.version
    return _Current(spec=spec, lock=lock, python=f"{version.major}.{version.minor}")


def _what_to_upgrade(
    lock: Lock, request: UpdateRequest
) -> tuple[tuple[Vulnerable, ...], tuple[str, ...]]:
    if not request.security_only:
        return (), request.packages
    if request.osv is None:
        raise UpdateError("--security-only needs vulnerability data: --osv PATH (an OSV export)")
    vulnerable = vulnerable_in(lock, request.osv)
    wanted = set(request.packages)
    chosen = tuple(v for v in vulnerable if not wanted or v.name in wanted)
    return chosen, tuple(v.requirement for v in chosen)


def _candidate_copy(root: Path) -> Path:
    """A fresh copy of the model folder, without build outputs, for the candidate lock."""
    dest = root / CANDIDATE_DIR
    if dest.exists():
        shutil.rmtree(dest)
    ignore = shutil.ignore_patterns(".imagekit", "__pycache__", ".git")
    shutil.copytree(root, dest, ignore=ignore, symlinks=True)
    return dest


def _evaluate(
    current: _Current,
    report: UpdateReport,
    request: UpdateRequest,
    *,
    candidate: Path,
    client: docker.DockerClient,
    progress: Progress,
) -> UpdateReport:
    spec = current.spec
    findings = check_project(candidate, request.catalog).findings
    report = replace(report, findings=findings)
    if any(f.severity is Severity.ERROR for f in findings):
        return _decide(report, ("the candidate lock fails imagekit check",), request, None)
    tag = f"{spec.name}:{spec.version}-candidate"
    try:
        baseline, note = _current_image(current, client, progress, request.catalog)
        progress(f"building the candidate {tag}")
        build_project(candidate, progress=progress, tag=tag, catalog=request.catalog)
    except ImagekitError as e:
        return _decide(report, (f"a build failed: {e}",), request, None)
    report = replace(
        report,
        current_image=baseline,
        current_note=note,
        candidate_image=tag,
        diff=image_diff(baseline, tag),
        scan=_scans(baseline, tag, request.osv),
    )
    return _verified(spec, report, request, client=client, images=(baseline, tag))


def _current_image(
    current: _Current, client: docker.DockerClient, progress: Progress, catalog: Catalog | None
) -> tuple[str, str]:
    """The current image (name:version) if it was built from this lock, else built now."""
    tag = current.spec.image_ref
    try:
        labels = client.images.get(tag).labels or {}
    except docker.errors.ImageNotFound:
        labels = {}
    if labels.get(LOCK_LABEL) == current.lock.sha256:
        return tag, "reused"
    progress(f"building the current image {tag}")
    build_project(current.spec.root, progress=progress, tag=tag, catalog=catalog)
    return tag, "built"


def _scans(current: str, candidate: str, osv: Path | None) -> tuple[str, ...]:
    if osv is None:
        return ("not scanned: no OSV data (give --osv PATH)",)
    lines = []
    for role, image in (("current", current), ("candidate", candidate)):
        try:
            lines.append(f"{role} `{image}`: {image_scan_summary(image, osv)}")
        except ImagekitError as e:
            lines.append(f"{role} `{image}`: not scanned: {e}")
    return tuple(lines)


def _verified(
    spec: ModelSpec,
    report: UpdateReport,
    request: UpdateRequest,
    *,
    client: docker.DockerClient,
    images: tuple[str, str],
) -> UpdateReport:
    candidate = report.candidate_dir
    if spec.verify is None:
        unknown = f"{spec.file} has no [verify] table: the effect on the outputs is unknown"
        return _decide(report, (unknown,), request, candidate)
    try:
        result = verify_images(
            spec, baseline=images[0], candidate=images[1], client=client, limits=request.limits
        )
    except ImagekitError as e:
        return _decide(report, (f"verification could not run: {e}",), request, candidate)
    report = replace(report, verify=result)
    if result.ok and candidate is not None:
        passed = ("imagekit verify passes: the outputs match",)
        return _promote(replace(report, verdict=Verdict.PROMOTE, reasons=passed), candidate)
    return _decide(report, ("imagekit verify fails:", *result.failures), request, candidate)


def _decide(
    report: UpdateReport, reasons: tuple[str, ...], request: UpdateRequest, forceable: Path | None
) -> UpdateReport:
    """Do not promote; unless forced past a failed or missing verification (`forceable` is
    then the candidate folder: the candidate was checked and built)."""
    if request.force is not None and forceable is not None:
        return _promote(replace(report, verdict=Verdict.PROMOTE, reasons=reasons), forceable)
    return replace(report, verdict=Verdict.DO_NOT_PROMOTE, reasons=reasons)


def _promote(report: UpdateReport, candidate: Path) -> UpdateReport:
    """Replace the project's lock (and the files re-locked with it) with the candidate's, each
    atomically."""
    for path in (*report.companions, report.lock):
        source = candidate / path.relative_to(report.project)
        if not source.is_file():
            continue
        copy_file(source, path)
    return replace(report, promoted=True)
