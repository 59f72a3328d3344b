"""The model image from a BuildPlan and its assembled context, without a daemon or a container.

Layers, in the Docker backend's order: SYSTEM (see `imagekit.build.oci.system`), the users layer
(the base's /etc/passwd and /etc/group plus the model's unprivileged user, and its home owned
by it), one layer per Python layer (its wheelhouse installed with `installer`), the model
artifacts, the application code under the workdir, and the plan at PLAN_PATH_IN_IMAGE. The
config matches the Docker backend's image: env and labels over the base's, user `uid:uid`,
workdir, entrypoint, cmd, exposed ports; `created` and every history entry carry the epoch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from packaging.version import Version

from imagekit import progress
from imagekit.build.fleet import FleetMember, LayerSource, LayerUse
from imagekit.build.oci.base import OciBase
from imagekit.build.oci.cache import LayerCache, layer_key
from imagekit.build.oci.pyc import compiles_bytecode
from imagekit.build.oci.rootfs import BaseFacts
from imagekit.build.oci.system import system_tree
from imagekit.build.oci.wheels import layer_tree
from imagekit.image.config import History, ImageConfig, rfc3339
from imagekit.image.errors import OciError
from imagekit.image.layout import blob_path, link_blob, staged_dir, write_image, write_index
from imagekit.image.model import Compression, Image, LayerBlob
from imagekit.image.tarlayer import Tree, bytes_entry, write_layer
from imagekit.plan.model import PLAN_PATH_IN_IMAGE, BuildPlan, Layer, LayerKind
from imagekit.workdir import owned_dir, write_problem

Progress = Callable[[str], None]


class SharedLayers(Protocol):
    """Layers shared beyond this machine (`imagekit.build.oci.regcache`), asked on a local miss."""

    def take(self, key: str, cache: LayerCache) -> bool:
        """Whether the layer of `key` is now in `cache` (fetched and verified); never raises."""
        ...

    def built(self, key: str, blob: LayerBlob) -> None:
        """Note a layer this build wrote, to share once the build is done."""
        ...


# Where a step's layer is made: the layout it is linked into, a scratch folder, the open files.
_Where = tuple[Path, Path, ExitStack]

_WRITES = 3  # times a layer is written when a prune removes its blob before it is named


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelBuild:
    """Everything one model image is made from."""

    plan: BuildPlan
    context: Path
    base: OciBase
    facts: BaseFacts
    cache: LayerCache
    compression: Compression
    epoch: int  # every file's mtime
    created: int  # the config's `created` (`context.image_created`)
    progress: Progress
    shared: SharedLayers | None = None  # a registry's layer cache (`build --cache REF`)
    fleet: FleetMember | None = None  # this model in a `build --all` run: layers made once
    from_registry: frozenset[str] = frozenset()  # layers `shared` put in the cache before the build


@dataclass(frozen=True, slots=True, kw_only=True)
class _Step:
    """One layer to make: what it is, its cache key (None: always made), how to make it."""

    name: str
    created_by: str
    key: dict[str, Any] | None
    make: Callable[[Path, ExitStack], Tree]


def _users(build: ModelBuild) -> _Step:
    plan, facts = build.plan, build.facts
    passwd = facts.file("etc/passwd").rstrip("\n") + "\n"
    passwd += f"{plan.user}:x:{plan.uid}:{plan.uid}::/home/{plan.user}:/usr/sbin/nologin\n"
    group = facts.file("etc/group").rstrip("\n") + "\n" + f"{plan.user}:x:{plan.uid}:\n"

    def make(_: Path, __: ExitStack) -> Tree:
        tree = Tree()
        for path, text in (("etc/passwd", passwd), ("etc/group", group)):
            tree.add(bytes_entry(path, text.lstrip("\n").encode(), mtime=build.epoch))
        tree.dir(f"home/{plan.user}", mtime=build.epoch, uid=plan.uid, gid=plan.uid)
        return tree

    return _Step(
        name="users", created_by=f"imagekit: user {plan.user} ({plan.uid})", key=None, make=make
    )


def python_inputs(plan: BuildPlan, layer: Layer, requirements: str) -> dict[str, Any]:
    """What decides a Python layer's bytes: its wheels (the wheelhouse's requirements.txt,
    names, versions and sha256s), where and by which Python they are installed."""
    bytecode = compiles_bytecode(Version(plan.base.python_version))
    return {
        "kind": layer.kind.value,
        "name": layer.name,
        "venv": plan.base.venv,
        "python": plan.base.python_version,
        "requirements": requirements,
        "bytecode": sys.version if bytecode else None,
    }


def python_plan_inputs(plan: BuildPlan, layer: Layer) -> dict[str, Any]:
    """A Python layer's inputs known before any wheel is fetched: the locked packages with
    every hash the lock allows and the target the wheels are chosen for (the registry cache's
    key, so a runner that finds it fetches no wheel)."""
    inputs = python_inputs(plan, layer, "")
    del inputs["requirements"]
    packages = [p.to_dict() for p in layer.packages]
    return {**inputs, "packages": packages, "platform": plan.platform, "glibc": plan.base.glibc}


def step_key(build: ModelBuild, inputs: dict[str, Any]) -> str:
    """The layer cache key of a step's inputs in this build (its epoch and compression)."""
    return layer_key({**inputs, "epoch": build.epoch, "compression": build.compression})


def _python(build: ModelBuild, layer: Layer) -> _Step:
    plan = build.plan
    wheelhouse = build.context / "wheels" / layer.name
    python = Version(plan.base.python_version)
    bytecode = compiles_bytecode(python)
    requirements = (wheelhouse / "requirements.txt").read_text(encoding="utf-8")
    key = python_inputs(plan, layer, requirements)

    def make(_: Path, stack: ExitStack) -> Tree:
        wheels = sorted(wheelhouse.glob("*.whl"))
        return layer_tree(wheels, stack, venv=plan.base.venv, python=python,
                          bytecode=bytecode, mtime=build.epoch)  # fmt: skip

    count = len(layer.packages)
    return _Step(
        name=layer.name,
        created_by=f"imagekit: {layer.name}: {count} package(s)",
        key=key,
        make=make,
    )


def _directory(build: ModelBuild, name: str, source: Path, dest: str, key: bool) -> _Step:
    def make(_: Path, __: ExitStack) -> Tree:
        tree = Tree()
        if source.is_dir():
            tree.add_directory(source, dest, mtime=build.epoch)
        return tree

    layer = next((x for x in build.plan.layers if x.name == name), None)
    inputs = {"name": name, "dest": dest, "layer": layer.to_dict() if layer else None}
    return _Step(
        name=name, created_by=f"imagekit: {name} -> {dest}", key=inputs if key else None, make=make
    )


def _system(build: ModelBuild, layer: Layer) -> _Step:
    debs = sorted((build.context / "system").glob("*.deb"))
    key = {
        "kind": "system",
        "system": list(layer.system),
        "debs": [d.name for d in debs],
        "base": build.base.image.manifest_digest,
    }

    def make(work: Path, stack: ExitStack) -> Tree:
        return system_tree(debs, build.facts, work, stack, mtime=build.epoch)

    return _Step(
        name="system", created_by=f"imagekit: system: {', '.join(layer.system)}", key=key, make=make
    )


def _steps(build: ModelBuild) -> list[_Step]:
    plan = build.plan
    steps: list[_Step] = [_system(build, x) for x in plan.layer(LayerKind.SYSTEM)]
    steps.append(_users(build))
    for layer in plan.layers:
        if layer.kind in (LayerKind.CUDA, LayerKind.FRAMEWORK, LayerKind.PYTHON):
            steps.append(_python(build, layer))
        elif layer.kind is LayerKind.ARTIFACTS:
            steps.append(_directory(build, layer.name, build.context / "artifacts", "/", True))
        elif layer.kind is LayerKind.APP:
            steps.append(_directory(build, layer.name, build.context / "app", plan.workdir, False))
    plan_dir = str(PurePosixPath(PLAN_PATH_IN_IMAGE).parent)
    steps.append(_directory(build, "plan", build.context / "meta", plan_dir, False))
    return steps


def _layer(build: ModelBuild, step: _Step, layout: Path, work: Path, stack: ExitStack) -> LayerBlob:
    if step.key is None:  # the model's own layer: always made, never shared
        blob = _make(build, step, (layout, work, stack), None)
        _used(build, step, None, blob, LayerSource.BUILT)
        return blob
    key = step_key(build, step.key)
    fleet = build.fleet
    if fleet is None:
        return _keyed(build, step, key, (layout, work, stack))[0]
    with fleet.once(key) as earlier:  # another model of the run making it: wait, then link
        if earlier is not None and build.cache.link(key, earlier.blob, layout):
            build.progress(f"layer {step.name}: shared with {earlier.model}")
            _used(build, step, key, earlier.blob, LayerSource.FLEET, built_by=earlier.model)
            return earlier.blob
        blob, source = _keyed(build, step, key, (layout, work, stack))
        fleet.made(key, blob)
    _used(build, step, key, blob, source)
    return blob


def _keyed(
    build: ModelBuild, step: _Step, key: str, where: _Where
) -> tuple[LayerBlob, LayerSource]:
    """The layer of cache key `key`: reused from the layer cache (or the registry's), else made."""
    layout = where[0]
    cached = build.cache.reuse(key, layout)
    source = LayerSource.REGISTRY if step.name in build.from_registry else LayerSource.CACHE
    if cached is None and _shared_has(build, key):
        cached, source = build.cache.reuse(key, layout), LayerSource.REGISTRY
    if cached is not None:
        build.progress(f"layer {step.name}: reused {cached.descriptor.digest[:19]}")
        return cached, source
    blob = _make(build, step, where, key)
    if build.shared is not None:
        build.shared.built(key, blob)
    return blob, LayerSource.BUILT


def _make(build: ModelBuild, step: _Step, where: _Where, key: str | None) -> LayerBlob:
    layout, work, stack = where
    build.progress(f"layer {step.name}: writing")
    blob = _write(build, step, step.make(work, stack), layout, key)
    build.progress(f"layer {step.name}: {blob.descriptor.digest[:19]}")
    return blob


def _used(
    build: ModelBuild,
    step: _Step,
    key: str | None,
    blob: LayerBlob,
    source: LayerSource,
    *,
    built_by: str = "",
) -> None:
    """Record in the fleet (if any) that this model's image holds the layer, and whence."""
    if build.fleet is None:
        return
    name = build.fleet.model
    build.fleet.used(LayerUse(model=name, layer=step.name, key=key, source=source,
                              digest=blob.descriptor.digest, size=blob.descriptor.size,
                              built_by=built_by or (name if source.written else "")))  # fmt: skip


def _shared_has(build: ModelBuild, key: str) -> bool:
    """Whether the registry's layer cache put the layer of `key` into the local cache."""
    shared = build.shared
    return shared is not None and build.cache.enabled and shared.take(key, build.cache)


def _write(build: ModelBuild, step: _Step, tree: Tree, layout: Path, key: str | None) -> LayerBlob:
    """The layer written into the layout, or into the layer cache (named by `key`) and linked
    from there. A prune may remove a cached blob before its key names it: it is written again."""
    blobs = build.cache.blobs if key is not None else layout / "blobs" / "sha256"
    for _ in range(_WRITES):
        with progress.step(f"layer {step.name} (unpacked)"):
            blob = write_layer(tree, blobs, mtime=build.epoch, compression=build.compression)
        if key is None or build.cache.keep(key, blob, layout):
            return blob
    raise OciError(
        f"{build.cache.blobs}: the layer {step.name} was removed from the cache {_WRITES} times "
        "as it was written; run `imagekit cache prune` with a larger --max-size, or raise "
        "$IMAGEKIT_CACHE_MAX_SIZE"
    )


def _config(build: ModelBuild, layers: list[LayerBlob], history: list[History]) -> ImageConfig:
    plan, base = build.plan, build.base.image.config
    env = {**base.env_map, **dict(plan.env)}
    return ImageConfig(
        architecture=plan.platform.partition("/")[2],
        os="linux",
        created=rfc3339(build.created),
        diff_ids=tuple(x.diff_id for x in layers),
        history=tuple(history),
        env=tuple(f"{k}={v}" for k, v in env.items()),
        labels=tuple(sorted({**dict(base.labels), **dict(plan.labels)}.items())),
        user=f"{plan.uid}:{plan.uid}",
        workdir=plan.workdir,
        entrypoint=plan.entrypoint or base.entrypoint,
        cmd=plan.cmd,
        exposed_ports=tuple(f"{port}/tcp" for port in plan.ports),
    )


def _annotations(build: ModelBuild) -> dict[str, str]:
    prefix = "org.opencontainers.image."
    annotations = {k: v for k, v in build.plan.labels if k.startswith(prefix)}
    annotations[f"{prefix}created"] = rfc3339(build.created)
    return annotations


def _check_platform(build: ModelBuild) -> None:
    arch = build.base.image.config.architecture
    if build.plan.platform != f"linux/{arch}":
        raise OciError(
            f"the plan is for {build.plan.platform} but the base was built for "
            f"linux/{arch}; build on a {build.plan.platform} machine or use "
            "--backend dockerfile"
        )


def assemble_image(build: ModelBuild, dest: Path, tag: str) -> Image:
    """Write the model image as the OCI layout `dest` (atomically), naming it `tag`.

    Raises `OciError` (an unsafe wheel, a package the backend cannot install, a write error
    such as a full disk); the layout is then left as it was.
    """
    _check_platform(build)
    try:
        return _assemble(build, dest, tag)
    except OSError as e:
        raise OciError(write_problem(dest, "the OCI layout", e)) from e


def _assemble(build: ModelBuild, dest: Path, tag: str) -> Image:
    base = build.base
    layers, history = list(base.image.layers), list(base.image.config.history)
    created = rfc3339(build.created)
    with (
        staged_dir(dest) as layout,
        owned_dir(dest.parent, ".work-") as work,
        ExitStack() as stack,
    ):
        for layer in layers:
            digest = layer.descriptor.digest
            link_blob(blob_path(base.layout, digest), layout, digest)
        for step in _steps(build):
            layers.append(_layer(build, step, layout, work, stack))
            history.append(History(created=created, created_by=step.created_by))
        image = write_image(
            layout, _config(build, layers, history), tuple(layers), _annotations(build)
        )
        write_index(layout, image, tag)
        build.progress(f"image {image.manifest_digest}")
    return image
