"""A CycloneDX SBOM of an Inventory: built, serialised, schema-validated, written atomically.

`reproducible=True` leaves out the serial number and the timestamp; everything else is sorted by
the library, so the same Inventory gives the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import assert_never

from cyclonedx.exception import CycloneDxException
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation import make_schemabased_validator
from packaging.utils import canonicalize_name

from imagekit import __version__
from imagekit.errors import ImagekitError
from imagekit.inventory.model import CudaComponent, CudaSourceKind, Inventory, PythonDist
from imagekit.sbom import components as c
from imagekit.sbom.formats import SbomFormat, SpecVersion
from imagekit.sbom.graph import deb_edges, python_edges


class SbomError(ImagekitError):
    """The SBOM could not be made, validated or written; nothing was written."""


def output_format(fmt: SbomFormat) -> OutputFormat:
    match fmt:
        case SbomFormat.CYCLONEDX_JSON:
            return OutputFormat.JSON
        case SbomFormat.CYCLONEDX_XML:
            return OutputFormat.XML
        case _:
            assert_never(fmt)


def schema_version(spec: SpecVersion) -> SchemaVersion:
    match spec:
        case SpecVersion.V1_6:
            return SchemaVersion.V1_6
        case SpecVersion.V1_5:
            return SchemaVersion.V1_5
        case _:
            assert_never(spec)


def _wheel_hashes(plan: dict[str, object] | None) -> dict[tuple[str, str], str]:
    """(name, version) -> the wheel's sha256, where the plan's lock names exactly one file.

    A lock usually lists every platform's wheel; which one was installed is not recorded, and a
    component hash must be the component's own, so an ambiguous package gets none.
    """
    out: dict[tuple[str, str], str] = {}
    layers = (plan or {}).get("layers")
    for layer in layers if isinstance(layers, list) else []:
        for pkg in layer.get("packages", []) if isinstance(layer, dict) else []:
            hashes = pkg.get("sha256") if isinstance(pkg, dict) else None
            if isinstance(hashes, list) and len(hashes) == 1:
                out[(canonicalize_name(str(pkg["name"])), str(pkg["version"]))] = str(hashes[0])
    return out


def _dependency_classes(plan: dict[str, object] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for cls in (c.OPTIONAL, c.CRITICAL):  # critical wins if a name is in both
        names = (plan or {}).get(cls)
        for name in names if isinstance(names, list) else []:
            out[canonicalize_name(str(name))] = cls
    return out


def _dist_refs(dists: tuple[PythonDist, ...]) -> list[str]:
    """The purl, with `#<site-packages>` where one name@version is in several environments."""
    purls = [c.pypi_purl(d).to_string() for d in dists]
    counts = Counter(purls)
    return [
        purl if counts[purl] == 1 else f"{purl}#{d.site_packages}"
        for purl, d in zip(purls, dists, strict=True)
    ]


class _Builder:
    """Collects components and edges for one Inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory
        self.components: list[Component] = []
        self.edges: dict[str, set[str]] = {}
        self.dist_refs = _dist_refs(inventory.python)

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
        base = (inv.plan or {}).get("base")
        python = base.get("python_version") if isinstance(base, dict) else None
        edges = python_edges(inv.python, architecture=inv.image.architecture, python_version=python)
        for i, needs in edges.items():
            self.depend(refs[i], *(refs[j] for j in needs))

    def _provider(self, cuda: CudaComponent) -> str | None:
        """The bom-ref of the distribution whose files hold a CUDA component."""
        path = cuda.path
        wheel = canonicalize_name(cuda.name) if cuda.kind is CudaSourceKind.WHEEL else None
        for dist, ref in zip(self.inv.python, self.dist_refs, strict=True):
            if path == dist.metadata_path or canonicalize_name(dist.name) == wheel:
                return ref
            rel = path.removeprefix(dist.site_packages.rstrip("/") + "/")
            if rel != path and any(f.path == rel for f in dist.record):
                return ref
        return None

    def cuda(self) -> None:
        runtimes: dict[str, str] = {}  # provider (or path) -> bom-ref: one runtime per wheel
        # A wheel or toolkit names the runtime better than a libcudart file inside it.
        order = [CudaSourceKind.WHEEL, CudaSourceKind.TOOLKIT, CudaSourceKind.LIBRARY]
        found = [x for x in self.inv.cuda if x.kind in order]
        for cuda in sorted(found, key=lambda x: (order.index(x.kind), x.path)):
            if not c.is_runtime(cuda):
                continue
            provider = self._provider(cuda)
            key = provider or cuda.path
            if key not in runtimes:
                runtimes[key] = self.add(c.cuda_runtime_component(cuda, provider))
        min_driver = self.inv.min_driver
        if min_driver:
            versions = [x.cuda_version for x in self.inv.cuda]
            driver = self.add(c.driver_component(min_driver, versions))
            for ref in runtimes.values():
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


def serialize(bom: Bom, fmt: SbomFormat, spec: SpecVersion) -> str:
    """The BOM as CycloneDX JSON or XML text; raises `SbomError` for what the spec cannot hold."""
    try:
        text = make_outputter(bom, output_format(fmt), schema_version(spec)).output_as_string(
            indent=2
        )
    except CycloneDxException as e:
        raise SbomError(f"cannot write CycloneDX {spec} {fmt}: {e}") from e
    return text if text.endswith("\n") else text + "\n"


def validate(text: str, fmt: SbomFormat, spec: SpecVersion, subject: str) -> None:
    """Check `text` against the CycloneDX schema; raises `SbomError` naming the first problem."""
    validator = make_schemabased_validator(output_format(fmt), schema_version(spec))
    error = validator.validate_str(text)
    if error is not None:
        detail = getattr(error.data, "message", None) or str(error.data)
        raise SbomError(
            f"{subject}: the SBOM fails the CycloneDX {spec} schema ({fmt}): {detail} "
            "(nothing was written; this is an imagekit bug: report it with the image)"
        )


def render_sbom(
    inventory: Inventory,
    *,
    fmt: SbomFormat = SbomFormat.CYCLONEDX_JSON,
    spec: SpecVersion = SpecVersion.V1_6,
    reproducible: bool = False,
) -> str:
    """The validated SBOM text of an Inventory; raises `SbomError`."""
    text = serialize(build_bom(inventory, reproducible=reproducible), fmt, spec)
    validate(text, fmt, spec, inventory.image.reference)
    return text


def _file_mode() -> int:
    """The mode `open()` gives a new file (0666 less the umask: 0644 under the usual 022), which
    build.json and plan.json get; mkstemp's 0600 would hide an SBOM from the rest of a CI job.
    The umask is read from /proc, as os.umask can only be read by changing it."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def write_text_atomically(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`; the file
    gets the mode a plainly written file would (0644 under umask 022)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, _file_mode())
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise SbomError(f"{path}: cannot write the SBOM: {e.strerror} (check the path)") from e
    return path


def write_sbom(
    inventory: Inventory,
    path: Path,
    *,
    fmt: SbomFormat = SbomFormat.CYCLONEDX_JSON,
    spec: SpecVersion = SpecVersion.V1_6,
    reproducible: bool = False,
) -> Path:
    """Render, validate, then write atomically; on any error nothing is written."""
    text = render_sbom(inventory, fmt=fmt, spec=spec, reproducible=reproducible)
    return write_text_atomically(path, text)
