"""What a build with `--cache REF` takes from the registry before it starts, and gives back.

Before the wheelhouse is filled, each Python layer is asked for by its locked packages and
target (`python_plan_inputs`): a hit puts the layer into the local layer cache and gives the
wheelhouse its requirements.txt and wheel list, so no wheel of that layer is fetched. A base
is asked for by its recipe hash (tag `base-<recipe sha256>`): a hit is pulled, every blob
verified, into `<cache>/bases/<recipe sha256>` as if it had been built here. After the build,
the layers and the base made here are pushed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from imagekit.build.oci.assemble import python_inputs, python_plan_inputs
from imagekit.build.oci.base import REVISION, REVISION_ANNOTATION, OciBase
from imagekit.build.oci.cache import LayerCache, layer_key
from imagekit.build.oci.regcache import CachedWheel, CacheRecord, RegistryCache
from imagekit.errors import ImagekitError
from imagekit.image.digest import Digest
from imagekit.image.errors import OciError
from imagekit.image.layout import publish, read_index, read_layout, write_entries
from imagekit.image.model import REF_NAME, Compression
from imagekit.plan.catalog import BaseImage, ImageSource
from imagekit.plan.model import BuildPlan, Layer
from imagekit.registry.client import ClientOptions
from imagekit.registry.pull import pull_to_layout
from imagekit.registry.push import push_layout
from imagekit.registry.reference import Reference
from imagekit.workdir import owned_dir

BASE_TAG_PREFIX = "base-"
TITLE = "org.opencontainers.image.title"
_REQUIREMENT = re.compile(
    r"^(?P<name>[^=\s]+)==(?P<version>\S+) --hash=sha256:(?P<sha>[0-9a-f]{64})$"
)


def base_tag(base: BaseImage) -> str:
    return f"{BASE_TAG_PREFIX}{base.recipe_hash[:64]}"


def _keyed(inputs: dict[str, object], epoch: int, compression: Compression) -> str:
    return layer_key({**inputs, "epoch": epoch, "compression": compression})


def take_python_layers(
    plan: BuildPlan,
    shared: RegistryCache,
    cache: LayerCache,
    *,
    epoch: int,
    compression: Compression,
) -> dict[str, CacheRecord]:
    """The Python layers the registry has (now in `cache`), by layer name, with their records."""
    taken: dict[str, CacheRecord] = {}
    if not cache.enabled:
        return taken
    for layer in plan.python_layers:
        key = _keyed(python_plan_inputs(plan, layer), epoch, compression)

        def local_key(record: CacheRecord, layer: Layer = layer) -> str:
            inputs = python_inputs(plan, layer, record.requirements or "")
            return _keyed(inputs, epoch, compression)

        record = shared.take_record(key, cache, local_key)
        if record is not None and record.requirements is not None:
            taken[layer.name] = record
    return taken


def share_python_layers(
    plan: BuildPlan,
    shared: RegistryCache,
    context: Path,
    *,
    epoch: int,
    compression: Compression,
) -> None:
    """Tell `shared` to push each Python layer this build writes under its packages' key."""
    for layer in plan.python_layers:
        requirements = (context / "wheels" / layer.name / "requirements.txt").read_text("utf-8")
        local = _keyed(python_inputs(plan, layer, requirements), epoch, compression)
        remote = _keyed(python_plan_inputs(plan, layer), epoch, compression)
        wheels = _wheels(context / "wheels" / layer.name, requirements)
        shared.alias(local, remote, requirements, wheels)


def _wheels(wheelhouse: Path, requirements: str) -> tuple[CachedWheel, ...]:
    """The wheelhouse's wheels, their sha256 from its requirements.txt (checked when fetched)."""
    hashes = {}
    for line in requirements.splitlines():
        if match := _REQUIREMENT.match(line):
            hashes[(match["name"], match["version"])] = match["sha"]
    found = []
    for path in sorted(wheelhouse.glob("*.whl")):
        name, version = path.name.split("-")[:2]
        sha = next((s for (n, v), s in hashes.items() if v == version and _same(n, name)), "")
        found.append(CachedWheel(name=name, version=version, filename=path.name, sha256=sha))
    return tuple(found)


def _same(a: str, b: str) -> bool:
    return re.sub(r"[-_.]+", "-", a).lower() == re.sub(r"[-_.]+", "-", b).lower()


def take_base(base: BaseImage, layout: Path, shared: RegistryCache) -> bool:
    """Pull the base published under its recipe hash into `layout` (absent now); whether it
    is there. A miss or a problem is said and the base is built instead."""
    ref = base_reference(shared.reference, base)
    try:
        if shared.client.find_manifest(base_tag(base)) is None:
            return False
        digest = pull_base(base, ref, layout, options=shared.options)
    except (ImagekitError, OSError) as e:
        shared.say(f"cache: {ref}: {e}; building the base instead")
        return False
    shared.say(f"cache: base {base.name} taken from {ref}@{digest}")
    return True


def pull_base(
    base: BaseImage, ref: Reference, layout: Path, *, options: ClientOptions | None = None
) -> Digest:
    """Pull `ref` (a base published by `push_base`) into `layout`, named as a build names it,
    and check it is that base (its title and revision); its manifest digest. Raises
    `RegistryError`, `OciError` (not a base of this recipe, a damaged blob) or `OSError`;
    on any of them `layout` is left as it was."""
    layout.parent.mkdir(parents=True, exist_ok=True)
    with owned_dir(layout.parent, ".pull-") as work:
        pulled = work / "layout"
        digest = pull_to_layout(ref, pulled, options=options)
        _rename(pulled, base.local_tag)
        annotations = dict(read_layout(pulled, base.local_tag).manifest.annotations)
        made_here = not isinstance(base.source, ImageSource)  # a daemon's copy has neither
        wanted = {TITLE: base.name, REVISION_ANNOTATION: REVISION}
        if made_here and any(annotations.get(k) != v for k, v in wanted.items()):
            raise OciError(
                f"{ref}: holds {annotations.get(TITLE)!r} of revision "
                f"{annotations.get(REVISION_ANNOTATION)!r}, not the base {base.name} of revision "
                f"{REVISION}; push it again with `imagekit base push`"
            )
        publish(pulled, layout)
    return digest


def _rename(layout: Path, name: str) -> None:
    """Name the layout's one image `name` (the base's local tag), as a build would have."""
    (entry,) = read_index(layout).manifests
    write_entries(layout, [replace(entry, annotations=((REF_NAME, name),))])


def share_base(base: BaseImage, built: OciBase, shared: RegistryCache) -> None:
    """Push the base built here under its recipe hash, unless it is there; a failure is said."""
    ref = base_reference(shared.reference, base)
    try:
        if shared.client.find_manifest(base_tag(base)) is not None:
            return
        result = push_layout(built.layout, ref, options=shared.options)
    except (ImagekitError, OSError) as e:
        shared.say(f"cache: pushing the base {base.name} to {ref} failed: {e}")
        return
    shared.say(f"cache: base {base.name} pushed to {ref}@{result.digest}")


def base_reference(repository: Reference, base: BaseImage) -> Reference:
    """Where `base` is published in `repository`: the tag of its recipe hash."""
    return _tagged(repository, base_tag(base))


def _tagged(ref: Reference, tag: str) -> Reference:
    return Reference(registry=ref.registry, repository=ref.repository, tag=tag, digest=None)
