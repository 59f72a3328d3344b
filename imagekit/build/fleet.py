"""Many models as one fleet: each distinct layer built once across the models of one run.

`build --all` plans every model first (`imagekit.build.fleetplan`), so the layers they share
are known before any is built. While the models build, in parallel or not, the oci backend
asks `FleetLayers.once` before it makes a layer of a given cache key: the first model to ask
makes it (or takes it from the layer cache) while any other model asking for the same key
waits, then links the blob the first one made; no layer is written twice in one run, even with
`--no-cache`. Every layer a model used is recorded (`LayerUse`) with where it came from, which
is what the per-model and fleet reports count.

Once-only holds within one process (one `build --all`); separate processes share layers through
the layer cache as before.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from imagekit.image.model import LayerBlob


class LayerSource(enum.StrEnum):
    """Where a model's layer came from in this run."""

    BUILT = "built"  # written by this model
    FLEET = "fleet"  # written by another model of this run and shared with this one
    CACHE = "cache"  # the local layer cache, from an earlier run
    REGISTRY = "registry"  # the registry's layer cache (`--cache REF`)

    @property
    def written(self) -> bool:
        return self is LayerSource.BUILT


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerUse:
    """One layer of one model's image, and where it came from."""

    model: str  # the model's name in the run (its folder under the root)
    layer: str
    key: str | None  # the layer cache key; None for a layer of the model's own (never shared)
    digest: str
    size: int  # compressed bytes
    source: LayerSource
    built_by: str = ""  # the model that wrote it, for FLEET

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "key": self.key,
            "digest": self.digest,
            "size": self.size,
            "source": self.source.value,
            "built_by": self.built_by or None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Made:
    """A layer one model of the run made or took from a cache: the blob and who it was."""

    blob: LayerBlob
    model: str


class FleetLayers:
    """The layers of one `build --all` run, shared by its models' threads (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, threading.Lock] = {}
        self._made: dict[str, Made] = {}
        self._uses: list[LayerUse] = []

    @contextlib.contextmanager
    def once(self, key: str) -> Iterator[Made | None]:
        """Hold the layer of `key` for this model until the block ends: yields what an earlier
        model made of it, or None when this model is the first (it then calls `made`). A model
        asking while another holds the key waits for it."""
        with self._lock:
            lock = self._keys.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                earlier = self._made.get(key)
            yield earlier

    def made(self, key: str, blob: LayerBlob, model: str) -> None:
        """Record the layer of `key` as made by `model` (call it inside `once`)."""
        with self._lock:
            self._made.setdefault(key, Made(blob=blob, model=model))

    def used(self, use: LayerUse) -> None:
        with self._lock:
            self._uses.append(use)

    def uses(self, model: str) -> tuple[LayerUse, ...]:
        """The layers `model` used, in the order it used them."""
        with self._lock:
            return tuple(u for u in self._uses if u.model == model)

    def member(self, model: str) -> FleetMember:
        """The fleet as one model's build sees it: what it records is under `model` (its
        folder's name in the run, unique even when two models' plans give one image name)."""
        return FleetMember(fleet=self, model=model)


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetMember:
    """One model of a fleet: `FleetLayers`, its records named after the model."""

    fleet: FleetLayers
    model: str

    def once(self, key: str) -> contextlib.AbstractContextManager[Made | None]:
        return self.fleet.once(key)

    def made(self, key: str, blob: LayerBlob) -> None:
        self.fleet.made(key, blob, self.model)

    def used(self, use: LayerUse) -> None:
        self.fleet.used(use)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLayers:
    """One model's layers in the run: what it wrote, what it took, what it shares."""

    model: str
    built: tuple[LayerUse, ...]  # written by this model
    taken: tuple[LayerUse, ...]  # shared by another model of the run, or from a cache
    shared_bytes: int  # its layers that other models of the run hold too

    @property
    def built_bytes(self) -> int:
        return sum(u.size for u in self.built)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "built": [u.layer for u in self.built],
            "built_bytes": self.built_bytes,
            "taken": {u.layer: u.source.value for u in self.taken},
            "shared_bytes": self.shared_bytes,
            "layers": [u.to_dict() for u in (*self.built, *self.taken)],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetReport:
    """What the run made of its layers, per model and for the fleet."""

    models: tuple[ModelLayers, ...]
    written: int  # layer writes in the run: each distinct layer once when sharing worked
    distinct: int  # distinct layers written (the shareable ones by key, plus each own one)
    shared_bytes: int  # compressed bytes not written again: a shared layer's size per extra user

    def summary(self, size: Callable[[int], str]) -> str:
        """The fleet's line, sizes said by `size`."""
        return (f"{self.distinct} distinct layers built for {len(self.models)} models "
                f"({self.written} written), {size(self.shared_bytes)} shared")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "distinct": self.distinct,
            "shared_bytes": self.shared_bytes,
            "models": [m.to_dict() for m in self.models],
        }


def fleet_report(uses: dict[str, tuple[LayerUse, ...]]) -> FleetReport:
    """The report of the layers the models (by name, in the run's order) used."""
    holders: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for model, used in uses.items():
        for u in used:
            if u.key is not None:
                holders.setdefault(u.key, set()).add(model)
                sizes[u.key] = u.size
    models = tuple(_model_layers(m, used, holders) for m, used in uses.items())
    writes = [u for m in models for u in m.built]
    distinct = {u.key or f"{u.model}/{u.layer}" for u in writes}
    shared = sum(sizes[k] * (len(ms) - 1) for k, ms in holders.items())
    return FleetReport(models=models, written=len(writes), distinct=len(distinct),
                       shared_bytes=shared)  # fmt: skip


def _model_layers(
    model: str, used: tuple[LayerUse, ...], holders: dict[str, set[str]]
) -> ModelLayers:
    shared = sum(u.size for u in used if u.key is not None and len(holders[u.key]) > 1)
    return ModelLayers(
        model=model,
        built=tuple(u for u in used if u.source.written),
        taken=tuple(u for u in used if not u.source.written),
        shared_bytes=shared,
    )
