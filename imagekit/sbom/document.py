"""The CycloneDX model of an Inventory, which both CycloneDX formats serialise.

`reproducible=True` leaves out the serial number and the timestamp; everything else is sorted by
the library, so the same Inventory gives the same bytes.
"""

from __future__ import annotations

from collections import Counter

from cyclonedx.exception import CycloneDxException
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from packaging.utils import canonicalize_name

from imagekit import __version__
from imagekit.inventory.model import CudaSourceKind, Inventory
from imagekit.inventory.packages import dist_refs, runtimes
from imagekit.plan.stored import StoredPlan
from imagekit.sbom import components as c
from imagekit.sbom.graph import deb_edges, python_edges
from imagekit.sbom.interface import SbomError


def _wheel_hashes(plan: StoredPlan | None) -> dict[tuple[str, str], str]:
    """(name, version) -> the wheel's sha256, where the plan's lock names exactly one file.

    A lock usually lists every platform's wheel; which one was installed is not recorded, and a
    component hash must be the component's own, so an ambiguous package gets none.
    """
    packages = plan.packages if plan else ()
    return {(p.name, str(p.version)): p.sha256[0] for p in packages if len(p.sha256) == 1}


def _dependency_classes(plan: StoredPlan | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if plan is None:
        return out
    for cls, names in ((c.OPTIONAL, plan.optional), (c.CRITICAL, plan.critical)):
        for name in names:  # critical wins if a name is in both
            out[canonicalize_name(name)] = cls
    return out


class _Builder:
    """Collects components and edges for one Inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory
        self.components: list[Component] = []
        self.edges: dict[str, set[str]] = {}
        self.dist_refs = dist_refs(inventory.python)

    def add(self, component: Component) -> str:
        self.components.append(component)
        return str(component.bom_ref.value)

    def depend(self, dependent: str, *needs: str) -> None:
        self.edges.setdefault(dependent, set()).update(needs)

    def packages(self) -> None:
        inv = self.inv
        release = inv.os_release
        if release:
            self.add(c.os_component(release))
        deb_refs = [self.add(c.deb_component(d, release)) for d in inv.debs]
        for i, needs in deb_edges(inv.debs).items():
            self.depend(deb_refs[i], *(deb_refs[j] for j in needs))
        hashes = _wheel_hashes(inv.plan)
        classes = _dependency_classes(inv.plan)
        built_for = (CudaSourceKind.WHEEL, CudaSourceKind.FRAMEWORK)  # found at the dist-info
        cuda_of = {x.path: x for x in inv.cuda if x.kind in built_for}
        refs = self.dist_refs
        for dist, ref in zip(inv.python, refs, strict=True):
            name = canonicalize_name(dist.name)
            self.add(
                c.dist_component(
                    dist,
                    bom_ref=ref,
                    wheel_sha256=hashes.get((name, dist.version)),
                    dependency_class=classes.get(name),
                    cuda=cuda_of.get(dist.metadata_path),
                )
            )
        python = inv.plan.python_version if inv.plan else None
        edges = python_edges(inv.python, architecture=inv.image.architecture, python_version=python)
        for i, needs in edges.items():
            self.depend(refs[i], *(refs[j] for j in needs))

    def cuda(self) -> None:
        runtime_refs = []
        for cuda, provider in runtimes(self.inv):
            provided_by = self.dist_refs[provider] if provider is not None else None
            runtime_refs.append(self.add(c.cuda_runtime_component(cuda, provided_by)))
        min_driver = self.inv.min_driver
        if min_driver:
            versions = [x.cuda_version for x in self.inv.cuda]
            driver = self.add(c.driver_component(min_driver, versions))
            for ref in runtime_refs:
                self.depend(ref, driver)

    def models_and_data(self) -> None:
        for artifact in sorted(self.inv.artifacts, key=lambda a: a.path):
            self.add(c.artifact_component(artifact))
        for source in sorted(self.inv.data, key=lambda d: (d.kind, d.name, d.version)):
            self.add(c.data_component(source))


def build_bom(inventory: Inventory, *, reproducible: bool = False) -> Bom:
    """The CycloneDX model of an Inventory; the image is the metadata component and depends on
    everything listed. Raises `SbomError` if two components would share a bom-ref."""
    builder = _Builder(inventory)
    try:
        builder.packages()
        builder.cuda()
        builder.models_and_data()
    except CycloneDxException as e:  # a value the CycloneDX model refuses (a malformed URI...)
        raise SbomError(f"{inventory.image.reference}: cannot describe the image: {e}") from e
    counts = Counter(str(x.bom_ref.value) for x in builder.components)
    duplicates = sorted(ref for ref, n in counts.items() if n > 1)
    if duplicates:
        raise SbomError(
            f"{inventory.image.reference}: the inventory lists {duplicates[0]} twice "
            "(fix the inventory reader: each package once per location)"
        )
    bom = Bom(components=builder.components)
    if reproducible:
        # The library types these as always set; its serialisers leave out what is None.
        bom.serial_number = None  # type: ignore[assignment]
        bom.metadata.timestamp = None  # type: ignore[assignment]
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="imagekit", version=__version__)
    )
    bom.metadata.lifecycles = [PredefinedLifecycle(LifecyclePhase.POST_BUILD)]
    bom.metadata.properties = [
        Property(name="imagekit:warning", value=w) for w in inventory.warnings
    ]
    root = c.image_component(inventory.image)
    bom.metadata.component = root
    by_ref = {str(x.bom_ref.value): x for x in builder.components}
    bom.register_dependency(root, builder.components)
    for dependent, needs in builder.edges.items():
        bom.register_dependency(by_ref[dependent], [by_ref[n] for n in sorted(needs)])
    return bom
