"""Conflicts across models: pairs of a deployment registry that must not run together.

- two CUDA majors in one `shares = "host"` group;
- in one `shares = "base"` group, two bases, or two versions of a package the shared base
  carries;
- a pair the platform team lists in `[[incompatible]]`, when both are in one group.

A model folder is read through its spec and lock (for its base and platform); an image through
its Inventory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import assert_never

from packaging.utils import canonicalize_name

from imagekit.conflicts.lockcheck import installed
from imagekit.conflicts.registry import Group, RegisteredModel, Registry, Shares, load_registry
from imagekit.errors import Finding, FindingsError, ImagekitError, InputError, Location, Severity
from imagekit.inventory.packages import image_cuda
from imagekit.plan.catalog import Catalog
from imagekit.project.lockfile import read_lock
from imagekit.project.spec import ModelSpec, load_spec
from imagekit.project.target import TargetEnv

_FIX = {
    "cuda-major": "move one of them to another host group, or rebuild it for the group's "
    "CUDA major",
    "base-image": "build both on one base, or move one of them to another group",
    "base-package": "lock the same version in both, or move one of them to another group",
    "incompatible": "move one of them to another group (or drop the [[incompatible]] entry "
    "if it no longer holds)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFacts:
    """What the checks need to know about one registered model."""

    name: str
    cuda: str | None  # major.minor
    base: str | None  # the catalog base it is built on
    pins: dict[str, str]  # canonical Python package name -> version


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """Two models that must not be deployed together, and why."""

    a: str
    b: str
    group: str
    rule: str  # "cuda-major" | "base-image" | "base-package" | "incompatible"
    reason: str
    location: Location

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "group": self.group,
            "rule": self.rule,
            "reason": self.reason,
            "location": self.location.to_dict(),
        }

    def finding(self) -> Finding:
        return Finding(
            location=self.location,
            rule=self.rule,
            message=f"{self.a} and {self.b} must not be deployed together in group "
            f"{self.group}: {self.reason}",
            fix=_FIX[self.rule],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentReport:
    registry: Path
    models: int
    conflicts: tuple[Conflict, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(c.finding() for c in self.conflicts)

    def to_dict(self) -> dict[str, object]:
        """`ok` (no conflicting pair) and every pair, as `imagekit conflicts deploy --json`."""
        return {"ok": not self.conflicts, "conflicts": [c.to_dict() for c in self.conflicts]}


def check_deployment(
    registry: Registry, *, catalog: Catalog | None = None, only: Iterable[str] = ()
) -> DeploymentReport:
    """Every conflicting pair of the registry (of the groups of the models `only` names, if
    given). Raises `InputError` naming the registry key of a model that cannot be read."""
    bases = catalog or Catalog.load()
    wanted = set(only)
    groups = [
        g
        for g in registry.groups
        if not wanted or any(m.name in wanted for m in registry.members(g.name))
    ]
    facts = {m.name: model_facts(m, bases) for g in groups for m in registry.members(g.name)}
    conflicts: list[Conflict] = []
    for group in groups:
        conflicts += _group_conflicts(group, registry.members(group.name), facts, bases)
    conflicts += _listed(registry, {g.name for g in groups})
    if wanted:
        conflicts = [c for c in conflicts if {c.a, c.b} & wanted]
    return DeploymentReport(registry=registry.file, models=len(facts), conflicts=tuple(conflicts))


def _group_conflicts(
    group: Group,
    members: tuple[RegisteredModel, ...],
    facts: dict[str, ModelFacts],
    catalog: Catalog,
) -> Iterator[Conflict]:
    match group.shares:
        case Shares.HOST:
            return _cuda_conflicts(group.name, members, facts)
        case Shares.BASE:
            return _base_conflicts(group.name, members, facts, catalog)
        case _:
            assert_never(group.shares)


def model_facts(model: RegisteredModel, catalog: Catalog) -> ModelFacts:
    """The facts of a registered model; raises `InputError` at the model's registry key."""
    key = "project" if model.project is not None else "image"
    try:
        if model.project is not None:
            return _project_facts(model.name, model.project, catalog)
        return _image_facts(model.name, str(model.image))
    except ImagekitError as e:
        where = Location(file=model.location.file, key=f"{model.location.key}.{key}")
        fix = e.fix if isinstance(e, InputError) and e.fix else "correct the model's entry"
        raise InputError(where, f"model {model.name!r}: {e}", fix) from e


def _project_facts(name: str, folder: Path, catalog: Catalog) -> ModelFacts:
    from imagekit.cuda import cuda_of_packages  # noqa: PLC0415 - `check` without a registry

    spec = load_spec(folder)
    base = catalog.get(spec.base, spec.location("base"))
    env = TargetEnv(python=base.python.version, platform=spec.platform).marker_environment()
    packages = installed(read_lock(spec.lockfile), env)
    planned = cuda_of_packages(packages)
    cuda = str(base.cuda.version) if base.cuda else planned.version if planned else None
    pins = {str(p.name): str(p.version) for p in packages if p.version is not None}
    return ModelFacts(name=name, cuda=cuda, base=base.name, pins=pins)


def _image_facts(name: str, reference: str) -> ModelFacts:
    # The image readers (and the docker SDK) only for a registry that names an image.
    from imagekit.inventory import read_inventory  # noqa: PLC0415

    inventory = read_inventory(reference)
    pins = {str(canonicalize_name(d.name)): d.version for d in inventory.python}
    return ModelFacts(
        name=name, cuda=image_cuda(inventory), base=inventory.image.base_name, pins=pins
    )


def _pairs(
    members: tuple[RegisteredModel, ...],
) -> Iterator[tuple[RegisteredModel, RegisteredModel]]:
    yield from combinations(members, 2)


def _cuda_conflicts(
    group: str, members: tuple[RegisteredModel, ...], facts: dict[str, ModelFacts]
) -> Iterator[Conflict]:
    for a, b in _pairs(members):
        ca, cb = facts[a.name].cuda, facts[b.name].cuda
        if ca and cb and ca.split(".")[0] != cb.split(".")[0]:
            yield Conflict(
                a=a.name,
                b=b.name,
                group=group,
                rule="cuda-major",
                reason=f"{a.name} needs CUDA {ca} and {b.name} CUDA {cb}; the hosts of a group "
                "run one driver branch, kept on one CUDA major",
                location=b.location,
            )


def _base_conflicts(
    group: str,
    members: tuple[RegisteredModel, ...],
    facts: dict[str, ModelFacts],
    catalog: Catalog,
) -> Iterator[Conflict]:
    for a, b in _pairs(members):
        fa, fb = facts[a.name], facts[b.name]
        if fa.base != fb.base:
            yield Conflict(
                a=a.name,
                b=b.name,
                group=group,
                rule="base-image",
                reason=f"{a.name} is built on {fa.base or 'an unknown base'} and {b.name} on "
                f"{fb.base or 'an unknown base'}; the group shares one base",
                location=b.location,
            )
            continue
        base = catalog.bases.get(fa.base) if fa.base else None
        for package in base.python_packages if base else ():
            va, vb = fa.pins.get(package.name), fb.pins.get(package.name)
            if va and vb and va != vb:
                yield Conflict(
                    a=a.name,
                    b=b.name,
                    group=group,
                    rule="base-package",
                    reason=f"{a.name} pins {package.name} {va} and {b.name} {package.name} {vb}; "
                    f"the shared base {fa.base} carries one version",
                    location=b.location,
                )


def _listed(registry: Registry, groups: set[str]) -> Iterator[Conflict]:
    by_name = {m.name: m for m in registry.models}
    for entry in registry.incompatible:
        ga, gb = by_name[entry.a].group, by_name[entry.b].group
        if ga == gb and ga in groups:
            yield Conflict(
                a=entry.a,
                b=entry.b,
                group=ga,
                rule="incompatible",
                reason=entry.reason,
                location=entry.location,
            )


def refuse_conflicting_deployment(
    spec: ModelSpec, catalog: Catalog | None = None
) -> tuple[Finding, ...]:
    """For `imagekit build`: raise `FindingsError` when the spec's deployment registry puts
    this model in a group it conflicts with. Returns a warning when the registry does not
    list the model; raises `InputError` for a registry that cannot be read."""
    if spec.deployment is None:
        return ()
    if not spec.deployment.is_file():
        raise InputError(
            spec.location("deployment"),
            f"deployment registry {spec.deployment} not found",
            "correct the path (relative to the model folder) or remove `deployment`",
        )
    registry = load_registry(spec.deployment)
    mine = [m.name for m in registry.models if m.project == spec.root]
    if not mine:
        return (
            Finding(
                location=spec.location("deployment"),
                rule="not-registered",
                message=f"{registry.file} registers no model at {spec.root}",
                fix="add a [[models]] entry with project = the model folder",
                severity=Severity.WARNING,
            ),
        )
    report = check_deployment(registry, catalog=catalog, only=mine)
    if report.conflicts:
        raise FindingsError(report.findings)
    return ()
