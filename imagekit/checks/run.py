"""Pre-build checks: everything that would make a build wrong, found before it starts.

`run_checks` reads the spec, the lock and the base, and collects every finding in one run:
unpinned or unhashed packages, duplicates and version conflicts, editable or unhashed direct
sources, packages the base's Python cannot run, conflicts with what the base carries,
requirements of the locked wheels that the lock and the base leave unmet, missing or altered
model artifacts, the spec's deployment registry, its licence policy (judged from the locked
packages' own metadata) and, once all else passes, its fleet on the planned image.
`imagekit check`, `build` and `bake` all run this one list, so they reach one verdict before
any engine runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.utils import NormalizedName

from imagekit.build.wheelhouse import Target
from imagekit.conflicts.index import MetadataSource
from imagekit.conflicts.lockcheck import read_requirements
from imagekit.conflicts.metadata import WheelMetadata
from imagekit.errors import (
    UNREADABLE,
    ErrorCollector,
    Finding,
    FindingsError,
    InputError,
    Location,
    Severity,
)
from imagekit.limits import shown
from imagekit.paths import contained, open_regular
from imagekit.plan.catalog import BaseImage, BasePackage, Catalog
from imagekit.project.appfiles import select_for_spec
from imagekit.project.entrypoint import check_entrypoint
from imagekit.project.lockfile import (
    Lock,
    LockedPackage,
    Sha256,
    SourceKind,
    packages_for,
    read_lock,
)
from imagekit.project.spec import Artifact, ModelSpec, load_spec
from imagekit.project.target import TargetEnv

if TYPE_CHECKING:
    from imagekit.gpu import CompatReport
    from imagekit.plan.model import BuildPlan

_RANGE_OPERATORS = ("<", ">", "~=", "!=", "*")
FLEET_RULE = "fleet-incompatible"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """What the checks read, the packages that apply to the target, and every finding."""

    spec: ModelSpec | None
    lock: Lock | None
    base: BaseImage | None
    packages: tuple[LockedPackage, ...]
    findings: tuple[Finding, ...]
    plan: BuildPlan | None = None  # planned once every other check passed
    compat: CompatReport | None = None  # the spec's fleet's verdict on the plan, if it names one

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


def run_checks(
    project: Path,
    catalog: Catalog | None = None,
    *,
    cache_dir: Path | None = None,
    allow_incompatible: str | None = None,
    metadata: MetadataSource | None = None,
) -> CheckResult:
    """Run every pre-build check on a model folder.

    `cache_dir`: the wheel cache (its `metadata/` folder caches the wheels' METADATA);
    `metadata`: where METADATA comes from (default: that cache, then pip's indexes);
    `allow_incompatible`: the reason to build for a fleet no pool of which runs the image (its
    verdict is then a warning).
    Raises `InputError` when the spec, its fleet file or its deployment registry cannot be
    read; every other problem becomes a finding of the result.
    """
    spec = load_spec(project)
    collector = ErrorCollector()
    base = lock = None
    bases = catalog or Catalog.load()
    if spec.base not in bases.bases:
        collector.error(
            spec.location("base"),
            "unknown-base",
            f"base image {spec.base!r} is not in the catalog ({bases.directory})",
            f"use one of: {', '.join(sorted(bases.bases))}",
        )
    else:
        base = bases.get(spec.base)
        if spec.platform not in base.platforms:
            collector.error(
                spec.location("platform"),
                "platform",
                f"base {base.name} is not built for {spec.platform}",
                f"use one of: {', '.join(base.platforms)}",
            )
    with collector.collect():
        lock = read_lock(spec.lockfile)
    packages: tuple[LockedPackage, ...] = ()
    source = metadata or MetadataSource(cache_dir=cache_dir)
    read: dict[NormalizedName, WheelMetadata] = {}
    if lock is not None and base is not None:
        target = TargetEnv(python=base.python.version, platform=spec.platform)
        packages = check_lock(lock, target, collector)
        check_against_base(packages, base, collector)
        check_declared(spec, packages, collector)
        wheels = Target(python=base.python.version, platform=spec.platform, glibc=base.os.glibc)
        read = read_requirements(lock, packages, base, wheels, collector, source=source)
    if base is not None:
        check_system_packages(spec, base, collector)
    check_artifacts(spec, collector)
    check_app_files(spec, collector)
    check_deployment(spec, catalog, collector)
    if base is not None:
        check_licence_policy(spec, read, base, source, collector)
    check_entrypoint(spec, packages, collector)
    result = CheckResult(
        spec=spec, lock=lock, base=base, packages=packages, findings=collector.findings
    )
    return check_fleet(result, allow_incompatible)


def check_deployment(spec: ModelSpec, catalog: Catalog | None, collector: ErrorCollector) -> None:
    """The spec's deployment registry must not put this model in a group it conflicts with.
    Raises `InputError` for a registry that is missing or unreadable."""
    from imagekit.conflicts.deploy import refuse_conflicting_deployment  # noqa: PLC0415 - reads images

    try:
        for finding in refuse_conflicting_deployment(spec, catalog):
            collector.add(finding)
    except FindingsError as e:
        for finding in e.findings:
            collector.add(finding)


def check_licence_policy(
    spec: ModelSpec,
    read: dict[NormalizedName, WheelMetadata],
    base: BaseImage,
    source: MetadataSource,
    collector: ErrorCollector,
) -> None:
    """The spec's licence policy on the locked packages and the base's Python packages, from
    their own METADATA (License-Expression, License, classifiers). A denied licence is an
    error; the policy is applied again to the built image's SBOM."""
    if spec.license_policy is None:
        return
    from imagekit.licenses import (  # noqa: PLC0415 - only for a spec with a policy
        LicensePolicy,
        Verdict,
        component_of_metadata,
        evaluate,
    )

    policy = None
    with collector.collect():
        policy = LicensePolicy.load(spec.license_policy)
    if policy is None:
        return
    carried = [_base_package(p, base.file) for p in base.python_packages if p.name not in read]
    target = Target(python=base.python.version, platform=spec.platform, glibc=base.os.glibc)
    # The base's wheels are in the base, not fetched by the build: metadata files only.
    base_read = dataclasses.replace(source, fetch_missing=False).read(carried, target)
    components = [
        component_of_metadata(m) for _, m in sorted({**base_read.metadata, **read}.items())
    ]
    for decision in evaluate(components, policy).of(Verdict.DENY):
        collector.add(decision.finding())
    if base_read.unread:
        names = ", ".join(u.package.raw_name for u in base_read.unread)
        collector.warn(
            spec.location("license_policy"),
            "licence-not-judged",
            f"the licences of {names} (carried by base {base.name}) are judged only on the "
            "built image: their metadata could not be read",
            "nothing to do before the build; run `imagekit check` with the index reachable "
            "to judge them now",
        )


def _base_package(package: BasePackage, where: Path) -> LockedPackage:
    """A package the base carries, as a lock would name it (pinned, with its hashes)."""
    return LockedPackage(
        name=package.name,
        raw_name=package.name,
        location=Location(file=where),
        version=package.version,
        specifier=f"=={package.version}",
        hashes=frozenset(Sha256(h) for h in package.sha256),
    )


def check_fleet(
    result: CheckResult, allow_incompatible: str | None, plan: BuildPlan | None = None
) -> CheckResult:
    """Plan a project whose checks pass (unless `plan` is given), and judge the plan against
    the spec's fleet: an image no pool can run is an error, or a warning when
    `allow_incompatible` gives the reason. Raises `InputError` for a bad fleet file."""
    if not result.ok:
        return result
    if plan is None:
        from imagekit.plan.planner import make_plan  # noqa: PLC0415 - the planner imports this module

        plan = make_plan(result)
    spec = result.spec
    if spec is None or spec.fleet is None:
        return dataclasses.replace(result, plan=plan)
    from imagekit.gpu import compat_of_plan, knowledge_base, load_fleet  # noqa: PLC0415 - fleets only

    kb = knowledge_base()
    report = compat_of_plan(plan, load_fleet(spec.fleet, kb), packages=result.packages, kb=kb)
    findings = [*result.findings, *report.summary.findings]
    if not report.runnable:
        reasons = "; ".join(p.reason for p in report.pools)
        reason = (allow_incompatible or "").strip()
        findings.append(
            Finding(
                location=spec.location("fleet"),
                rule=FLEET_RULE,
                message=f"{spec.fleet}: no pool can run {plan.image_ref}: {reasons}"
                + (f" (built anyway: {reason})" if reason else ""),
                fix='meet one pool\'s needs, or build anyway with --allow-incompatible "REASON"',
                severity=Severity.WARNING if reason else Severity.ERROR,
            )
        )
    return dataclasses.replace(result, plan=plan, compat=report, findings=tuple(findings))


def _applies(marker: Marker | None, env: dict[str, str]) -> bool:
    return marker is None or marker.evaluate(env)


def check_lock(
    lock: Lock, target: TargetEnv, collector: ErrorCollector
) -> tuple[LockedPackage, ...]:
    """Validate every package of the lock for the target; returns those that apply to it."""
    env = target.marker_environment()
    if lock.requires_python is not None and target.python not in lock.requires_python:
        collector.error(
            Location(file=lock.path, key="requires-python"),
            "requires-python",
            f"the lock requires Python {lock.requires_python}, the base has {target.python}",
            "choose a base with a matching Python or re-lock for it",
        )
    # Packages excluded for this target by their markers (or, in uv.lock, by the markers of
    # every edge leading to them) are not errors; nor are Poetry's non-main groups.
    installed = {id(p) for p in packages_for(lock, env)}
    applied: dict[NormalizedName, LockedPackage] = {}
    for pkg in lock.packages:
        if id(pkg) not in installed or (pkg.groups and "main" not in pkg.groups):
            continue
        _check_package(pkg, target, collector)
        first = applied.get(pkg.name)
        if first is None:
            applied[pkg.name] = pkg
        elif first.version == pkg.version and first.specifier == pkg.specifier:
            collector.error(
                pkg.location,
                "duplicate",
                f"{pkg.raw_name} is listed twice (also at {first.location})",
                "keep one entry",
            )
        else:
            collector.error(
                pkg.location,
                "conflict",
                f"{pkg.raw_name} {pkg.specifier or '(any)'} conflicts with "
                f"{first.specifier or '(any)'} at {first.location}",
                "re-lock so that one version is chosen",
            )
    _check_graph(lock, applied, env, collector)
    return tuple(applied.values())


def _check_package(pkg: LockedPackage, target: TargetEnv, collector: ErrorCollector) -> None:
    where = pkg.location
    if pkg.editable:
        collector.error(
            where,
            "editable",
            f"{pkg.raw_name} is an editable install",
            "build a wheel and lock it by version and hash",
        )
    elif pkg.source is SourceKind.DIRECTORY:
        collector.error(
            where,
            "local-directory",
            f"{pkg.raw_name} comes from a local directory",
            "build a wheel and lock it by version and hash",
        )
    elif pkg.source in (SourceKind.URL, SourceKind.VCS, SourceKind.PATH) and not pkg.hashes:
        collector.error(
            where,
            "direct-unhashed",
            f"{pkg.raw_name} comes from {pkg.url or pkg.source.value} without a hash",
            "add --hash=sha256:... or lock it from an index",
        )
    elif pkg.version is None:
        is_range = any(op in pkg.specifier for op in _RANGE_OPERATORS)
        what = f"a version range ({pkg.specifier})" if is_range else "no version"
        collector.error(
            where,
            "unpinned",
            f"{pkg.raw_name} is not pinned to one exact version: {what}",
            f"pin it: {pkg.name}==<version> (re-lock with hashes)",
        )
    elif not pkg.hashes:
        collector.error(
            where,
            "unhashed",
            f"{pkg.raw_name}=={pkg.version} has no sha256 hash",
            "re-lock with hashes (pip-compile --generate-hashes)",
        )
    if pkg.requires_python is not None and target.python not in pkg.requires_python:
        collector.error(
            where,
            "requires-python",
            f"{pkg.raw_name} {pkg.version} requires Python {pkg.requires_python}, "
            f"the base has {target.python}",
            "choose a base with a matching Python or lock an older version",
        )


def _check_graph(
    lock: Lock,
    applied: dict[NormalizedName, LockedPackage],
    env: dict[str, str],
    collector: ErrorCollector,
) -> None:
    """Where the format records dependencies, each one the target needs must be locked."""
    for pkg in applied.values():
        for dep in pkg.dependencies or ():
            dep_env = {**env, "extra": ""}
            if not _applies(dep.marker, dep_env):
                continue
            locked = applied.get(dep.name)
            if locked is None:
                collector.error(
                    pkg.location,
                    "missing-dependency",
                    f"{pkg.raw_name} needs {dep.name}, which the lock does not "
                    "provide for this target",
                    f"re-lock for {lock.path.name}'s target",
                )
            elif (
                locked.version is not None
                and dep.specifier
                and not dep.specifier.contains(locked.version, prereleases=True)
            ):
                collector.error(
                    locked.location,
                    "conflict",
                    f"{pkg.raw_name} needs {dep.name}{dep.specifier}, the lock has "
                    f"{locked.version}",
                    "re-lock so that the versions agree",
                )


def check_against_base(
    packages: tuple[LockedPackage, ...], base: BaseImage, collector: ErrorCollector
) -> None:
    """A lock may re-pin what the base carries only to the same version."""
    carried = base.package_map()
    for pkg in packages:
        theirs = carried.get(pkg.name)
        if theirs is not None and pkg.version is not None and pkg.version != theirs.version:
            collector.error(
                pkg.location,
                "base-conflict",
                f"{pkg.raw_name} {pkg.version} conflicts with {theirs.version} "
                f"carried by base {base.name}",
                f"lock {pkg.name}=={theirs.version} or choose another base",
            )


def check_declared(
    spec: ModelSpec, packages: tuple[LockedPackage, ...], collector: ErrorCollector
) -> None:
    """Dependencies the spec marks critical or optional must be in the lock."""
    locked = {p.name for p in packages}
    for kind, names in (("critical", spec.critical), ("optional", spec.optional)):
        for name in sorted(names - locked):
            collector.error(
                spec.location(f"dependencies.{kind}"),
                "missing-dependency",
                f"{name} is marked {kind} but is not in {spec.lockfile.name} for this target",
                f"add {name} to the lock or remove it here",
            )


def check_artifacts(spec: ModelSpec, collector: ErrorCollector) -> None:
    """Every model artifact is a regular file inside the model folder (a link that leads out of
    it is refused before it is read) and has the sha256 the spec records."""
    for artifact in spec.artifacts:
        actual = _artifact_sha256(spec, artifact, collector)
        if actual is not None and actual != artifact.sha256:
            collector.error(
                artifact.location,
                "artifact-hash",
                f"{artifact.path} has sha256 {actual}, the spec records {artifact.sha256}",
                "if the new file is intended, update `sha256`",
            )


def _artifact_sha256(spec: ModelSpec, artifact: Artifact, collector: ErrorCollector) -> str | None:
    """The sha256 of an artifact's file, or None once a finding says why it cannot be read."""
    where, value = artifact.location, artifact.path.as_posix()
    try:
        path = contained(spec.root, spec.root, value, where, "model artifact")
        with open_regular(path, where, "model artifact") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except FileNotFoundError:
        collector.error(
            where,
            "artifact-missing",
            f"model artifact {shown(value)} not found",
            "add the file or correct `path`",
        )
    except InputError as e:
        collector.error(where, "artifact-path", e.message, e.fix or "correct `path`")
    except OSError as e:
        message = f"cannot read model artifact {shown(value)}: {e.strerror}"
        collector.error(where, UNREADABLE, message, "check the file and its permissions")
    return None


def check_app_files(spec: ModelSpec, collector: ErrorCollector) -> None:
    """Report what the app patterns matched but will not copy, and credential files they do."""
    selection = None
    with collector.collect():
        selection = select_for_spec(spec)
    if selection is None:
        return
    for path in selection.withheld_secrets:
        collector.warn(
            Location(file=spec.root / path),
            "secret-withheld",
            f"{shown(path)} looks like a credential file and is not copied into the image",
            f'if the image really needs it, name it exactly in [app] include: "{shown(path)}"',
        )
    for path in selection.named_secrets:
        collector.warn(
            Location(file=spec.root / path),
            "secret-included",
            f"{shown(path)} looks like a credential file and is copied into the image "
            "because [app] include names it",
            "remove it from [app] include unless the image really needs it",
        )
    for path, kind in selection.special:
        collector.warn(
            Location(file=spec.root / path),
            "not-a-file",
            f"{shown(path)} is {kind}, not a regular file, and is not copied into the image",
            "exclude it in [app] exclude, or replace it by a regular file",
        )
    for path in selection.undecodable:  # the name cannot be printed as a path: say where else
        collector.error(
            spec.location("app"),
            "file-name",
            f"the file name {shown(path)} in {spec.root} is not UTF-8",
            "rename the file, or exclude it in [app] exclude",
        )


def check_system_packages(spec: ModelSpec, base: BaseImage, collector: ErrorCollector) -> None:
    """System packages are fetched on the host from the base's own Debian archive."""
    if spec.system_packages and base.apt_source is None:
        collector.error(
            spec.location("system.packages"),
            "system-packages",
            f"base {base.name} was not built from a Debian archive imagekit knows, "
            "so its system packages cannot be fetched and verified on the host",
            "use a base built from a Debian recipe, or drop [system]",
        )
