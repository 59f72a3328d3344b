"""Build without a daemon: the image is assembled in-process as an OCI layout.

The base comes from its mmdebstrap recipe (cached by recipe hash), each model layer from the
assembled context; nothing runs inside the image. The layout goes to `<record folder>/oci`
(or `Outputs.oci_dir`), replaced only once complete; a docker-archive and `docker load` are
optional. The same plan and context give the same manifest digest, which is the image id.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Self

import docker

from imagekit.build.backends.interface import (
    BackendKind,
    BuildError,
    BuildResult,
    Capabilities,
    ImageHome,
    Outputs,
    Progress,
)
from imagekit.build.context import PrefetchedLayer, context_created, source_date_epoch
from imagekit.build.oci import (
    Compression,
    Image,
    LayerCache,
    ModelBuild,
    OciBase,
    OciError,
    assemble_image,
    base_facts,
    default_cache_root,
    ensure_base,
    hold_bases,
    load_into_daemon,
    write_archive,
)
from imagekit.build.oci.daemonload import load_image
from imagekit.build.oci.regcache import RegistryCache, cache_reference
from imagekit.build.oci.shared import (
    share_base,
    share_python_layers,
    take_base,
    take_python_layers,
)
from imagekit.build.oci.targets import check_loadable, daemon_version
from imagekit.daemon import docker_client
from imagekit.plan.catalog import BaseImage
from imagekit.plan.model import BuildPlan
from imagekit.progress import step as progress_step
from imagekit.workdir import write_problem


class OciBackend:
    kind: ClassVar[BackendKind] = BackendKind.OCI
    # Threads share the base and wheel caches safely: both are written under a lock and
    # replaced whole. The same plan and context give the same manifest digest.
    # It installs wheels with `installer`, never pip; it shares layers through a registry.
    capabilities: ClassVar[Capabilities] = Capabilities(
        home=ImageHome.LAYOUT, parallel=True, build_tools=False, layer_cache=True, zstd=True
    )

    def __init__(
        self,
        *,
        no_cache: bool = False,
        outputs: Outputs | None = None,
        cache_root: Path | None = None,
        compression: Compression = Compression.GZIP,
        client: docker.DockerClient | None = None,
    ) -> None:
        """`client`: the daemon to load the image into (`outputs.load`); closed by `close`."""
        self.outputs = outputs or Outputs()
        self.client = client
        self.cache_root = cache_root or default_cache_root()
        self.cache = LayerCache(root=self.cache_root / "oci", enabled=not no_cache)
        self.compression = compression
        self.base: OciBase | None = None
        self._held = ExitStack()  # the base layouts in use, not pruned until `close`
        # --cache REF: checked now, so a bad reference stops the build before any work
        self._shared_ref = cache_reference(self.outputs.cache) if self.outputs.cache else None
        self._shared: RegistryCache | None = None
        self._from_registry: frozenset[str] = frozenset()  # Python layers taken before a build

    def _registry_cache(self, progress: Progress) -> RegistryCache | None:
        """The registry's layer cache (`outputs.cache`), made on first use; None without."""
        if self._shared is None and self._shared_ref is not None:
            self._shared = RegistryCache(reference=self._shared_ref, say=progress)
        return self._shared

    @classmethod
    def open(cls, *, no_cache: bool, outputs: Outputs) -> Self:
        """Raises `DaemonUnavailableError` for `outputs.load` without a daemon, `OciError` for
        a daemon that cannot load the layers' compression: found now, before the build."""
        client = docker_client() if outputs.load else None
        if client is not None:
            try:
                check_loadable(outputs.compression, daemon_version(client))
            except OciError:
                client.close()
                raise
        return cls(
            no_cache=no_cache, outputs=outputs, client=client, compression=outputs.compression
        )

    @classmethod
    def unavailable(cls) -> str:
        """Always empty: it needs no daemon and no tool outside Python."""
        return ""

    def close(self) -> None:
        """Release the base layouts' locks, and the daemon connection if `--load` opened one."""
        self._held.close()
        if self.client is not None:
            self.client.close()

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """Build or reuse the base's layout; its manifest digest. Raises `OciError`."""
        self._held.close()
        self._held = hold_bases(base, self.cache_root)
        shared = self._registry_cache(progress)
        layout = self.cache_root / "bases" / base.recipe_hash
        taken = shared is not None and not layout.exists() and take_base(base, layout, shared)
        with progress_step(f"base {base.name} (unpacked)"):  # its layer's bytes, if built
            self.base = ensure_base(
                base, cache_root=self.cache_root, log=progress, compression=self.compression
            )
        if shared is not None and not taken:
            share_base(base, self.base, shared)
        return self.base.image.manifest_digest

    def cached_layers(self, plan: BuildPlan, progress: Progress) -> Mapping[str, PrefetchedLayer]:
        """The Python layers the registry's layer cache holds, now in the local one."""
        shared = self._registry_cache(progress)
        if shared is None:
            return {}
        records = take_python_layers(plan, shared, self.cache, epoch=source_date_epoch(),
                                     compression=self.compression)  # fmt: skip
        self._from_registry = frozenset(records)
        return {
            name: PrefetchedLayer(
                requirements=r.requirements or "",
                wheels=tuple((w.name, w.version, w.filename, w.sha256) for w in r.wheels),
            )
            for name, r in records.items()
        }

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """Assemble the image as an OCI layout (and archive / load it if asked).

        Raises `OciError` or `BuildError`; an interrupted build leaves no layout and no tag.
        """
        if self.base is None:
            raise BuildError("the oci backend builds on a base: call ensure_base first")
        dest = self.outputs.oci_dir or context.parent / "oci"
        build = ModelBuild(
            plan=plan,
            context=context,
            base=self.base,
            facts=base_facts(self.base.layout, self.base.image, self.cache_root / "facts"),
            cache=self.cache,
            compression=self.compression,
            epoch=source_date_epoch(),
            created=context_created(context) or _base_created(self.base),
            progress=progress,
            fleet=self.outputs.fleet,
            from_registry=self._from_registry,
        )
        shared = self._registry_cache(progress)
        if shared is not None:
            share_python_layers(plan, shared, context, epoch=build.epoch,
                                compression=self.compression)  # fmt: skip
            build = replace(build, shared=shared)
        image = assemble_image(build, dest, tag)
        if shared is not None:
            shared.share(self.cache)
            progress(f"cache {shared.reference}: {len(shared.found)} layer(s) found, "
                     f"{len(shared.pushed)} pushed")  # fmt: skip
        self._export(dest, image, tag, progress)
        return layout_result(dest, image, tag)

    def withdraw(self, result: BuildResult) -> None:
        withdraw_layout(result)

    def _export(self, layout: Path, image: Image, tag: str, progress: Progress) -> None:
        self.client = export_layout(self.outputs, layout, image, tag, progress, client=self.client)


BACKEND = OciBackend


def _base_created(base: OciBase) -> int:
    """The base's creation time, for a project outside git: no model image is older than its
    base (imagekit's bases say when their recipe's packages were taken)."""
    created = base.image.config.created
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return source_date_epoch()
    return max(int(moment.timestamp()), source_date_epoch())


def layout_result(layout: Path, image: Image, tag: str) -> BuildResult:
    """The result of a build whose image is the OCI layout at `layout`."""
    size = image.manifest.config.size + sum(x.descriptor.size for x in image.layers)
    return BuildResult(
        image_id=image.manifest_digest,
        tag=tag,
        size=size,
        layers=tuple(x.diff_id for x in image.layers),
        home=ImageHome.LAYOUT,
        location=str(layout),
    )


def withdraw_layout(result: BuildResult) -> None:
    """Remove the OCI layout a build left (an archive or a loaded copy stays: the user asked
    for those by name)."""
    shutil.rmtree(result.location)


def export_layout(
    outputs: Outputs,
    layout: Path,
    image: Image,
    tag: str,
    progress: Progress,
    *,
    client: docker.DockerClient | None,
) -> docker.DockerClient | None:
    """Write the docker-archive and load the image into a daemon, as `outputs` asks.

    Returns the Docker client it used (made on first need); raises `DaemonUnavailableError`.
    """
    epoch = source_date_epoch()
    if outputs.archive is not None:
        progress(f"docker-archive {outputs.archive}")
        _write_archive(layout, image, tag, outputs.archive, epoch)
    if not outputs.load:
        return client
    client = client or docker_client()
    if outputs.archive is not None:
        progress(f"loading {tag} into the Docker daemon")
        load_into_daemon(client, outputs.archive)
        return client
    load_image(client, layout, image, tag, mtime=epoch, progress=progress)
    return client


def _write_archive(layout: Path, image: Image, tag: str, dest: Path, epoch: int) -> None:
    """`write_archive`, with a failed write (a full disk) as one `OciError`; no partial file."""
    try:
        write_archive(layout, image, tag, dest, mtime=epoch)
    except OSError as e:
        raise OciError(write_problem(dest, "the docker-archive", e)) from e
