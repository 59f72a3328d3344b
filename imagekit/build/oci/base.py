"""Catalog bases without a daemon, as OCI layouts cached by recipe hash.

A recipe base is mmdebstrap's `--format=tar` output (the same options as `imagekit base build`,
SOURCE_DATE_EPOCH set) rewritten as one deterministic layer: entries sorted, mtimes clamped,
the distribution's modes and owners kept. A base FROM a parent adds its Python packages
(fetched and verified on the host, installed with `installer`) as one more layer. A base pulled
from a registry cannot be made here: it is read from a Docker daemon that holds its local tag.

Each base lives in `<cache>/bases/<recipe sha256>/` and is reused while the recipe (and this
module's revision) is unchanged; its blobs are re-hashed on every reuse.
"""

from __future__ import annotations

import contextlib
import json
import platform
import tarfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from imagekit.build.bases import BaseBuilderKind, ensure
from imagekit.build.bases.recipe import (
    SOURCE_DATE_EPOCH,
    Log,
    base_env,
    base_labels,
    make_rootfs,
    package_requests,
    package_target,
)
from imagekit.build.oci.wheels import layer_tree
from imagekit.build.wheelhouse import fetch_wheels
from imagekit.cache.lock import using
from imagekit.daemon import DaemonUnavailableError, docker_client
from imagekit.fsio import write_json
from imagekit.image.archive import save_from_daemon
from imagekit.image.config import History, ImageConfig, rfc3339
from imagekit.image.digest import file_state
from imagekit.image.errors import OciError
from imagekit.image.layout import (
    blob_path,
    link_blob,
    read_layout,
    staged_dir,
    verify_blob,
    write_image,
    write_index,
)
from imagekit.image.model import Compression, Image, LayerBlob
from imagekit.image.tarlayer import Tree, write_layer
from imagekit.plan.catalog import BaseImage, ImageSource, RecipeSource
from imagekit.workdir import owned_dir, write_problem

REVISION = "1"  # bumped whenever what a recipe gives changes, so older bases are rebuilt
REVISION_ANNOTATION = "io.imagekit.base.oci-revision"
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True, slots=True, kw_only=True)
class OciBase:
    """A base ready to build on: its layout and the image in it."""

    layout: Path
    image: Image


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    base: BaseImage
    layout: Path  # the staging layout being written
    work: Path
    wheel_cache: Path | None
    compression: Compression
    log: Log

    def say(self, message: str) -> None:
        self.log(f"{self.base.name}: {message}")


def host_platform(base: BaseImage) -> str:
    """This machine's platform (`linux/amd64`); raises `OciError` if the base lacks it."""
    name = f"linux/{_ARCHES.get(platform.machine().lower(), platform.machine().lower())}"
    if name not in base.platforms:
        raise OciError(f"{base.name}: defined for {', '.join(base.platforms)}, not {name}")
    return name


def _reusable(layout: Path, base: BaseImage) -> Image | None:
    if not (layout / "index.json").is_file():
        return None
    image = read_layout(layout, base.local_tag)
    revision = dict(image.manifest.annotations).get(REVISION_ANNOTATION)
    if revision != REVISION and not isinstance(base.source, ImageSource):
        return None
    _verify_layers(layout, image)
    return image


_VERIFIED = ".verified.json"  # beside blobs/: each layer's `file_state` when it last matched


def _verify_layers(layout: Path, image: Image) -> None:
    """Each layer blob of a cached base matches its digest: hashed again only when its file
    changed since it last did (a CUDA base's layers are gigabytes, read on every build)."""
    stamp = layout / _VERIFIED
    try:
        known = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    states: dict[str, str] = {}
    for layer in image.layers:
        digest = layer.descriptor.digest
        try:
            state = file_state(blob_path(layout, digest))
        except OSError:
            state = ""
        if not state or known.get(digest) != state:
            verify_blob(layout, layer.descriptor)
        states[digest] = state or file_state(blob_path(layout, digest))
    if states != known:
        with contextlib.suppress(OSError):
            write_json(stamp, states)


class OciBaseBuilder:
    """Builds catalog bases without a daemon, each an OCI layout in
    `cache_root/bases/<recipe sha256>`, replaced only once complete."""

    kind: ClassVar[BaseBuilderKind] = BaseBuilderKind.OCI

    def __init__(
        self,
        *,
        cache_root: Path,
        log: Log,
        wheel_cache: Path | None = None,
        compression: Compression = Compression.GZIP,
    ) -> None:
        self.cache_root, self.log = cache_root, log
        self.wheel_cache, self.compression = wheel_cache, compression

    def _layout(self, base: BaseImage) -> Path:
        return self.cache_root / "bases" / base.recipe_hash

    def reusable(self, base: BaseImage) -> OciBase | None:
        """Raises `OciError` for a cached base whose blobs no longer match their digests."""
        layout = self._layout(base)
        image = _reusable(layout, base)
        if image is None:
            return None
        self.log(f"{base.name}: reusing {layout}")
        return OciBase(layout=layout, image=image)

    def build(self, base: BaseImage, parent: OciBase | None) -> OciBase:
        """Raises `OciError` (mmdebstrap missing or failing, a registry base no daemon holds,
        a full disk) or `WheelhouseError`; an interrupted build leaves no layout."""
        layout = self._layout(base)
        if isinstance(base.source, ImageSource):
            return OciBase(layout=layout, image=_from_daemon(base, layout, self.log))
        try:
            layout.parent.mkdir(parents=True, exist_ok=True)
            with (
                staged_dir(layout) as tmp,
                owned_dir(layout.parent, ".work-") as work,
            ):
                job = _Job(base=base, layout=tmp, work=work, wheel_cache=self.wheel_cache,
                           compression=self.compression, log=self.log)  # fmt: skip
                _write_base(job, parent)
        except OSError as e:  # a full cache disk: one line, and no half-written base
            raise OciError(write_problem(layout, f"the base {base.name}", e)) from e
        self.log(f"{base.name}: built {layout}")
        return OciBase(layout=layout, image=read_layout(layout, base.local_tag))


def hold_bases(base: BaseImage, cache_root: Path) -> ExitStack:
    """Shared locks (`imagekit.cache.lock`) on the layouts of `base` and its parents, each
    marked used, held until the returned stack is closed: `imagekit cache prune` removes none
    of them while a build reads them. Raises `OSError` only for a lock it cannot make."""
    bases, stack = cache_root / "bases", ExitStack()
    chain: BaseImage | None = base
    try:
        while chain is not None:
            stack.enter_context(using(bases, chain.recipe_hash, bases / chain.recipe_hash))
            chain = chain.parent
    except BaseException:
        stack.close()
        raise
    return stack


def ensure_base(
    base: BaseImage,
    *,
    cache_root: Path,
    log: Log,
    wheel_cache: Path | None = None,
    compression: Compression = Compression.GZIP,
) -> OciBase:
    """The base's layout in `cache_root/bases/<recipe sha256>`, built (parents first) or reused.

    Raises `OciError` (mmdebstrap missing or failing, a corrupt cached base, a registry base
    no daemon holds) or `WheelhouseError` (the base's own wheels).
    """
    builder = OciBaseBuilder(
        cache_root=cache_root, log=log, wheel_cache=wheel_cache, compression=compression
    )
    return ensure(builder, base)


def _write_base(job: _Job, parent: OciBase | None) -> None:
    base = job.base
    created = rfc3339(SOURCE_DATE_EPOCH)
    # env in sorted order, as `docker import` of `imagekit base build` leaves it
    if isinstance(base.source, RecipeSource):
        layers, history = [_recipe_layer(job, base.source)], [_recipe_history(base.source)]
        env, labels = dict(sorted(base_env(base).items())), base_labels(base)
    elif parent is not None:
        for layer in parent.image.layers:
            link_blob(
                blob_path(parent.layout, layer.descriptor.digest),
                job.layout,
                layer.descriptor.digest,
            )
        layers, history = list(parent.image.layers), list(parent.image.config.history)
        env = {**parent.image.config.env_map, **dict(sorted(base_env(base).items()))}
        labels = {**dict(parent.image.config.labels), **base_labels(base)}
    else:
        raise OciError(f"{base.name}: has neither a [source] nor a parent base")
    if base.own_packages:
        layers.append(_packages_layer(job))
        history.append(History(created=created, created_by=_packages_history(base)))
    config = ImageConfig(
        architecture=host_platform(base).removeprefix("linux/"),
        os="linux",
        created=created,
        diff_ids=tuple(x.diff_id for x in layers),
        history=tuple(history),
        env=tuple(f"{k}={v}" for k, v in env.items()),
        labels=tuple(sorted(labels.items())),
    )
    annotations = {
        REVISION_ANNOTATION: REVISION,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.title": base.name,
    }
    image = write_image(job.layout, config, tuple(layers), annotations)
    write_index(job.layout, image, base.local_tag)


def _recipe_history(source: RecipeSource) -> History:
    by = f"mmdebstrap --variant={source.variant} {source.suite} {source.mirror}"
    return History(created=rfc3339(SOURCE_DATE_EPOCH), created_by=by, comment="imagekit base")


def _packages_history(base: BaseImage) -> str:
    names = ", ".join(f"{p.name}=={p.version}" for p in base.own_packages)
    return f"imagekit base: install {names}"


def _recipe_layer(job: _Job, source: RecipeSource) -> LayerBlob:
    """mmdebstrap's rootfs tarball, rewritten as one deterministic layer."""
    arch = host_platform(job.base).removeprefix("linux/")
    tarball = job.work / "rootfs.tar"
    make_rootfs(job.base, source, tarball, arch, log=job.log, error=OciError)
    job.say(f"writing the {tarball.stat().st_size // 2**20} MiB rootfs as a layer")
    tree = Tree()
    with tarfile.open(tarball) as tar:
        tree.add_tar(tar, clamp=SOURCE_DATE_EPOCH, place=lambda path, _: path)
        return write_layer(
            tree,
            job.layout / "blobs" / "sha256",
            mtime=SOURCE_DATE_EPOCH,
            compression=job.compression,
        )


def _packages_layer(job: _Job) -> LayerBlob:
    """The base's own wheels, verified on the host and installed with `installer`."""
    base = job.base
    target = package_target(base, host_platform(base))
    requests = package_requests(base)
    job.say(f"fetching {len(requests)} wheels for {target}")
    wheels = fetch_wheels(requests, target, job.work / "wheels", job.wheel_cache)
    with ExitStack() as stack:
        tree = layer_tree(
            [w.path for w in wheels],
            stack,
            venv=base.python.venv,
            python=base.python.version,
            bytecode=False,  # as `imagekit base build` (pip --no-compile)
            mtime=SOURCE_DATE_EPOCH,
        )
        blobs = job.layout / "blobs" / "sha256"
        return write_layer(tree, blobs, mtime=SOURCE_DATE_EPOCH, compression=job.compression)


def _from_daemon(base: BaseImage, layout: Path, log: Log) -> Image:
    """A registry base, saved from the daemon that `imagekit base build` made it in."""
    fix = (
        f"build it once with a daemon (`imagekit base build {base.name}`), or use "
        "--backend dockerfile"
    )
    try:
        client = docker_client()
    except DaemonUnavailableError as e:
        raise OciError(
            f"{base.name}: is pulled from a registry, which the oci backend does "
            f"not reach, and no Docker daemon holds it; {fix}"
        ) from e
    try:
        log(f"{base.name}: saving {base.local_tag} from the Docker daemon")
        layout.parent.mkdir(parents=True, exist_ok=True)
        return save_from_daemon(client, base.local_tag, layout)
    except OciError as e:
        raise OciError(f"{base.name}: {e}; {fix}") from e
    finally:
        client.close()
