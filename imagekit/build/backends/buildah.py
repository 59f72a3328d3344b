"""Build the rendered Dockerfile with buildah: no daemon, private storage, chroot isolation.

The storage is a folder of the build's own, removed after it, with its own storage.conf (no
host setting, such as an additional image store, reaches the build). Its driver is `overlay`
(kernel overlayfs, where each step's layer holds only what the step changed) when buildah can
mount overlays there, as `buildah info` finds out by mounting a test overlay; else `vfs`, which
works on any file system but keeps a whole copy of the root file system for every layer and
every container (a CUDA image's build: tens of GB).

The base is the oci backend's (built from its mmdebstrap recipe, cached by recipe hash),
copied with skopeo into that storage under the base's local tag, the name the
Dockerfile's FROM uses. `buildah bud` runs with `--timestamp $SOURCE_DATE_EPOCH` (every
created time and every file mtime in the new layers) and never pulls. The result is pushed to
an OCI layout (`<record folder>/oci`, or `Outputs.oci_dir`), replaced only once complete; its
manifest digest is the image id. Chroot isolation cannot disable networking (buildah refuses
`--network none` with it): the build stays hermetic because pip installs with `--no-index`.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from imagekit.build.backends.oci import export_layout, layout_result, withdraw_layout
from imagekit.build.context import PrefetchedLayer, source_date_epoch
from imagekit.build.oci import (
    Image,
    OciBase,
    default_cache_root,
    ensure_base,
    read_layout,
)
from imagekit.daemon import docker_client
from imagekit.fsio import write_text
from imagekit.image.layout import staged_dir
from imagekit.plan.catalog import BaseImage
from imagekit.plan.model import BuildPlan
from imagekit.proc import last_lines, run
from imagekit.proc import stream as run_stream

TOOLS = ("buildah", "skopeo")
_TAIL = 5
# A model build installs CUDA-sized wheels; copying or pushing a base is one large copy.
_BUILD_TIMEOUT_S = 4 * 3600
_STEP_TIMEOUT_S = 3600
# `buildah info` and `umount` answer at once; one that does not is stuck.
_QUICK_TIMEOUT_S = 120
_OCTAL_ESCAPE = re.compile(rb"\\([0-7]{3})")  # /proc/self/mountinfo escapes " " as "\040"


class StorageDriver(enum.StrEnum):
    """How buildah's storage keeps layers and containers."""

    OVERLAY = "overlay"  # kernel overlayfs: a step costs its own changes
    VFS = "vfs"  # a full copy of the root file system per layer and per container


@dataclass(frozen=True, slots=True, kw_only=True)
class Storage:
    """A private containers-storage: its driver and the folder holding it."""

    driver: StorageDriver
    folder: Path

    @property
    def options(self) -> list[str]:
        """buildah's global options that select this storage."""
        return ["--storage-driver", self.driver, "--root", str(self.folder / "root"),
                "--runroot", str(self.folder / "run")]  # fmt: skip

    @property
    def reference(self) -> str:
        """This storage in a `containers-storage:[...]` image reference (skopeo)."""
        return f"{self.driver}@{self.folder / 'root'}+{self.folder / 'run'}"

    @property
    def env(self) -> dict[str, str]:
        """The environment for buildah and skopeo: its own storage.conf, not the host's."""
        return {**os.environ, "CONTAINERS_STORAGE_CONF": str(self.folder / "storage.conf")}

    def write_config(self) -> None:
        """Write its storage.conf: the driver and no options (root and runroot are given on
        each command line). Raises `OSError`."""
        write_text(self.folder / "storage.conf", f'[storage]\ndriver = "{self.driver}"\n')


def missing_tools() -> str:
    """The tools this backend needs and does not find, with the fix; empty when all are found."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return ""
    return (
        f"the buildah backend needs {' and '.join(missing)} on PATH "
        f"(fix: apt-get install {' '.join(missing)}, or use --backend oci)"
    )


def require_tools() -> None:
    """Raises `BuildError` naming the tools this backend needs and does not find."""
    if problem := missing_tools():
        raise BuildError(problem)


def overlay_refusal(folder: Path) -> str:
    """Why buildah cannot use its overlay driver for a storage in `folder` (an overlayfs
    backing file system, no right to mount), or empty when it can. The probe's own storage,
    `folder/probe`, is removed. Raises `BuildError` when buildah cannot run or `folder` cannot
    be written.
    """
    probe = Storage(driver=StorageDriver.OVERLAY, folder=folder / "probe")
    release(probe.folder)  # one a killed probe left
    try:
        probe.folder.mkdir(parents=True)
        probe.write_config()
        done = run(["buildah", *probe.options, "info"], what="buildah info (overlay probe)",
                   timeout=_QUICK_TIMEOUT_S, error=BuildError, check=False,
                   env=probe.env)  # fmt: skip
    except OSError as e:
        raise BuildError(f"{folder}: cannot write buildah's storage ({e.strerror or e})") from e
    finally:
        release(probe.folder)
    if done.returncode == 0:
        return ""
    # buildah prints its error, then warnings about shutting the storage down it never opened.
    errors = [x for x in done.error_text.splitlines() if x.startswith("Error: ")]
    return last_lines(errors[-1:], 1).removeprefix("Error: ") if errors else done.tail(1)


def mounts_under(folder: Path) -> list[Path]:
    """The mount points at or below `folder`, deepest first (from /proc/self/mountinfo)."""
    try:
        table = Path("/proc/self/mountinfo").read_bytes()
    except OSError:
        return []
    top = os.fsencode(folder.resolve())
    found = []
    for line in table.splitlines():
        fields = line.split(b" ")
        if len(fields) < 5:
            continue
        point = _OCTAL_ESCAPE.sub(lambda m: bytes([int(m.group(1), 8)]), fields[4])
        if point == top or point.startswith(top + b"/"):
            found.append(Path(os.fsdecode(point)))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def release(folder: Path) -> None:
    """Remove a storage folder: first unmount what a killed build left mounted in it (an
    overlay storage's container roots and its own bind mount), so that nothing is removed
    through a mount. A mount that will not go is detached (`umount --lazy`)."""
    for point in mounts_under(folder):
        run(["umount", "--lazy", str(point)], what=f"umount {point}",
            timeout=_QUICK_TIMEOUT_S, error=BuildError, check=False)  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


class BuildahBackend:
    kind: ClassVar[BackendKind] = BackendKind.BUILDAH
    capabilities: ClassVar[Capabilities] = Capabilities(
        home=ImageHome.LAYOUT,
        parallel=False,  # its containers storage is shared; one build at a time is the safe choice
        unreproducible="its RUN steps are as reproducible as the tools they run; only the oci "
        "backend's images are reproducible by design",
    )

    def __init__(
        self,
        *,
        no_cache: bool = False,
        outputs: Outputs | None = None,
        cache_root: Path | None = None,
        storage: Path | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        """`storage`: buildah's storage root (default: a fresh folder removed by `close`);
        `client`: the daemon to load the image into (`outputs.load`), closed by `close`.
        """
        self.no_cache = no_cache
        self.outputs = outputs or Outputs()
        self.cache_root = cache_root or default_cache_root()
        self.client = client
        self._given_storage = storage
        self._temp_storage: Path | None = None
        self._store: Storage | None = None
        self.base: OciBase | None = None

    @classmethod
    def open(cls, *, no_cache: bool, outputs: Outputs) -> Self:
        """Raises `DaemonUnavailableError` for `outputs.load` without a daemon."""
        return cls(
            no_cache=no_cache, outputs=outputs, client=docker_client() if outputs.load else None
        )

    @classmethod
    def unavailable(cls) -> str:
        """Empty when buildah and skopeo are on PATH."""
        return missing_tools()

    @property
    def storage(self) -> Path:
        """buildah's storage root: the one given, or a fresh folder made on first use."""
        if self._given_storage is not None:
            return self._given_storage
        if self._temp_storage is None:
            # A dot-name: a build's own work, which `imagekit cache` neither lists nor prunes.
            (self.cache_root / ".buildah").mkdir(parents=True, exist_ok=True)
            made = tempfile.mkdtemp(prefix="storage-", dir=self.cache_root / ".buildah")
            self._temp_storage = Path(made)
        return self._temp_storage

    @property
    def driver(self) -> StorageDriver | None:
        """The storage driver chosen by `ensure_base`; None before."""
        return None if self._store is None else self._store.driver

    def _open_storage(self, progress: Progress) -> Storage:
        """The storage, its driver chosen on first use: overlay where buildah can use it in
        this folder, else vfs (said, with buildah's reason). Raises `BuildError`."""
        if self._store is None:
            refusal = overlay_refusal(self.storage)
            if refusal:
                progress(f"buildah storage: vfs (a copy of the file system per step), as the "
                         f"overlay driver cannot run in {self.storage}: {refusal}")  # fmt: skip
            driver = StorageDriver.VFS if refusal else StorageDriver.OVERLAY
            store = Storage(driver=driver, folder=self.storage)
            try:
                store.write_config()
            except OSError as e:
                raise BuildError(f"{self.storage}: cannot write buildah's storage.conf "
                                 f"({e.strerror or e})") from e  # fmt: skip
            self._store = store
        return self._store

    def close(self) -> None:
        """Remove the storage this backend made, and release the daemon connection."""
        if self._temp_storage is not None:
            release(self._temp_storage)
            self._temp_storage = None
        if self.client is not None:
            self.client.close()

    def ensure_base(self, base: BaseImage, progress: Progress) -> str:
        """Build or reuse the base's OCI layout and copy it into buildah's storage under its
        local tag; its manifest digest. Raises `OciError` or `BuildError` (buildah or skopeo
        missing, or refusing to run here).
        """
        require_tools()
        self.base = ensure_base(base, cache_root=self.cache_root, log=progress)
        store = self._open_storage(progress)
        progress(f"{base.name}: copying into buildah's {store.driver} storage as {base.local_tag}")
        self._run(
            ["skopeo", "copy", "--quiet", f"oci:{self.base.layout}:{base.local_tag}",
             f"containers-storage:[{store.reference}]{base.local_tag}"],
            what=f"copying the base {base.local_tag} into buildah's storage",
        )  # fmt: skip
        return self.base.image.manifest_digest

    def cached_layers(self, plan: BuildPlan, progress: Progress) -> Mapping[str, PrefetchedLayer]:
        """None: its engine makes every layer from the Dockerfile (no registry layer cache)."""
        return {}

    def build(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> BuildResult:
        """`buildah bud` the context, then push the image to an OCI layout (and archive / load
        it if asked). Raises `BuildError` or `OciError`; a failed build leaves no layout.
        """
        if self.base is None:
            raise BuildError("the buildah backend builds on a base: call ensure_base first")
        image_id = self._bud(plan, context, tag, progress)
        dest = self.outputs.oci_dir or context.parent / "oci"
        progress(f"pushing {tag} to the OCI layout {dest}")
        with staged_dir(dest) as staged:
            self._buildah(
                ["push", "--quiet", image_id, f"oci:{staged}:{tag}"],
                what=f"pushing {tag} to an OCI layout",
            )
            image = read_layout(staged, tag)
        self._export(dest, image, tag, progress)
        return layout_result(dest, image, tag)

    def withdraw(self, result: BuildResult) -> None:
        withdraw_layout(result)

    def _bud(self, plan: BuildPlan, context: Path, tag: str, progress: Progress) -> str:
        iidfile = context.parent / f".{context.name}.iid"
        args = [
            "bud", "--isolation", "chroot", "--layers", "--pull=never",
            "--timestamp", str(source_date_epoch()), "--platform", plan.platform,
            "--iidfile", str(iidfile), "--tag", tag,
        ]  # fmt: skip
        if self.no_cache:
            args.append("--no-cache")
        self._stream(["buildah", *self._opened.options, *args, str(context)], progress)
        try:
            return iidfile.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise BuildError(f"buildah reported no image id ({iidfile}: {e.strerror})") from e
        finally:
            iidfile.unlink(missing_ok=True)

    @property
    def _opened(self) -> Storage:
        if self._store is None:
            raise BuildError("the buildah backend builds on a base: call ensure_base first")
        return self._store

    def _stream(self, command: Sequence[str], progress: Progress) -> None:
        run_stream(command, what="the image build (buildah bud)", timeout=_BUILD_TIMEOUT_S,
                   on_line=progress, error=BuildError, tail_lines=_TAIL,
                   env=self._opened.env)  # fmt: skip

    def _buildah(self, args: Sequence[str], *, what: str) -> None:
        self._run(["buildah", *self._opened.options, *args], what=what)

    def _run(self, command: Sequence[str], *, what: str) -> None:
        run(command, what=what, timeout=_STEP_TIMEOUT_S, error=BuildError, tail_lines=_TAIL,
            env=self._opened.env)  # fmt: skip

    def _export(self, layout: Path, image: Image, tag: str, progress: Progress) -> None:
        self.client = export_layout(self.outputs, layout, image, tag, progress, client=self.client)


BACKEND = BuildahBackend
