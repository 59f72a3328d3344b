"""The plan of a fleet: every model's layers, named by what decides their bytes, before any build.

A layer's identity is made from the inputs its cache key is made from, as far as the plan knows
them (the locked packages of a Python layer, the apt packages and base of the system layer, the
artifacts' hashes), so the models that will share a layer are known before any is built; the
cache key the build uses adds the wheels' exact files, known once they are fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagekit.build.oci.assemble import python_plan_inputs
from imagekit.build.oci.cache import layer_key
from imagekit.plan.model import BuildPlan, Layer, LayerKind


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedLayer:
    """A model layer as the fleet plan sees it: its identity (None: the model's own)."""

    name: str
    identity: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetPlan:
    """The layers every planned model will have, and which are common to several."""

    models: dict[str, tuple[PlannedLayer, ...]]  # by the model's name in the run

    @property
    def distinct(self) -> frozenset[str]:
        """The identities of the shareable layers, each once."""
        return frozenset(x.identity for ls in self.models.values() for x in ls if x.identity)

    def sharers(self, identity: str) -> tuple[str, ...]:
        """The models whose plan holds the layer `identity`."""
        found = (m for m, ls in self.models.items() if any(x.identity == identity for x in ls))
        return tuple(sorted(found))

    @property
    def common(self) -> frozenset[str]:
        """The shareable layers more than one model holds."""
        return frozenset(i for i in self.distinct if len(self.sharers(i)) > 1)

    def summary(self) -> str:
        models, layers = len(self.models), len(self.distinct)
        return (f"fleet plan: {models} model(s), {layers} distinct shareable layer(s), "
                f"{len(self.common)} of them common to several models")  # fmt: skip


def planned_layers(plan: BuildPlan) -> tuple[PlannedLayer, ...]:
    """The layers the oci backend makes from `plan`, each named by what decides its bytes as
    far as the plan knows it (the cache key adds the wheels' exact files, found when fetched)."""

    def identity(layer: Layer) -> str | None:
        if layer.kind in (LayerKind.CUDA, LayerKind.FRAMEWORK, LayerKind.PYTHON):
            return layer_key(python_plan_inputs(plan, layer))
        if layer.kind is LayerKind.SYSTEM:
            return layer_key({"system": list(layer.system), "base": plan.base.reference})
        if layer.kind is LayerKind.ARTIFACTS:
            return layer_key({"artifacts": layer.to_dict()})
        return None  # the application code: the model's own

    return tuple(PlannedLayer(name=x.name, identity=identity(x)) for x in plan.layers)


def plan_fleet(plans: dict[str, BuildPlan]) -> FleetPlan:
    """The fleet plan of the models' plans, by the models' names in the run."""
    return FleetPlan(models={name: planned_layers(plan) for name, plan in sorted(plans.items())})
