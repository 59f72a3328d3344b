"""Assemble a build context from a BuildPlan: wheels per layer, artifacts, application code.

Every file gets the same mtime (SOURCE_DATE_EPOCH) and a fixed mode, so the engine's cache keys
depend on content alone and an unchanged layer is reused.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name
from packaging.version import Version

from imagekit.build.debs import DebRequest, fetch_debs
from imagekit.build.wheelhouse import FetchedWheel, fetch_wheels
from imagekit.errors import ImagekitError
from imagekit.fsio import copy_file
from imagekit.image.digest import sha256_file
from imagekit.plan.model import PLAN_PATH_IN_IMAGE, BuildPlan, Layer, LayerKind
from imagekit.plan.render import render_dockerfile, render_dockerignore
from imagekit.proc import run
from imagekit.project.target import Target
from imagekit.workdir import write_problem

DEFAULT_EPOCH = 315532800  # 1980-01-01, the earliest time a zip (wheel) entry can hold


class ContextError(ImagekitError):
    """A file changed or vanished between the checks and the build."""


# The image's creation time, kept beside the context (its .dockerignore leaves it out).
CREATED_FILE = "created"
_GIT_TIMEOUT_S = 30


def source_date_epoch() -> int:
    """The mtime of every file in every layer: SOURCE_DATE_EPOCH, else 1980-01-01. Fixed, so a
    new commit does not change the layers' cache keys."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def image_created(project: Path) -> int | None:
    """When the image says it was created (its config's `created`): SOURCE_DATE_EPOCH when
    set, else the time of the newest git commit of the project folder: an input, so the same
    commit gives the same digest, and `docker images` no longer says "46 years ago". None
    outside a git work tree (or without git): the backend then takes its base's time."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return source_date_epoch()
    try:
        found = run(
            ["git", "-C", str(project), "log", "-1", "--format=%ct", "--", "."],
            what="git log",
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except ImagekitError:  # git is not installed, or did not answer
        return None
    value = found.text.strip()
    return int(value) if found.returncode == 0 and value.isdigit() else None


def context_created(context: Path) -> int | None:
    """The creation time `assemble` found for the context's image (`image_created`)."""
    try:
        value = (context / CREATED_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return int(value) if value.isdigit() else None


def _requirements(wheels: Sequence[FetchedWheel]) -> str:
    lines = [f"{w.name}=={w.version} --hash=sha256:{w.sha256}" for w in wheels]
    return "\n".join(lines) + "\n"


def _copy_verified(source: Path, dest: Path, sha256: str, what: str) -> None:
    try:
        actual = sha256_file(source)
    except FileNotFoundError as e:
        raise ContextError(f"{source}: {what} vanished after the checks") from e
    if actual != sha256:
        raise ContextError(
            f"{source}: {what} changed after the checks (sha256 {actual}, "
            f"expected {sha256}); run `imagekit check` again"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    if os.access(source, os.X_OK):
        dest.chmod(0o755)


def _normalize(root: Path, epoch: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            _settle(Path(dirpath) / name, epoch)
        for name in dirnames:
            (Path(dirpath) / name).chmod(0o755)
    for dirpath, dirnames, _ in os.walk(root, topdown=False):
        for name in dirnames:
            os.utime(Path(dirpath) / name, (epoch, epoch))
    os.utime(root, (epoch, epoch))


def _settle(path: Path, epoch: int) -> None:
    """Give the file `path` its fixed mode and the epoch as mtime.

    A wheel is a hard link into the user's wheel cache: changing its mode or mtime would change
    the cached file too, so a link that needs a change is first replaced by a copy of its own.
    """
    st = path.stat()
    mode = 0o755 if st.st_mode & 0o100 else 0o644
    if stat.S_IMODE(st.st_mode) == mode and st.st_mtime == epoch:
        return
    if st.st_nlink > 1:
        copy_file(path, path)
    path.chmod(mode)
    os.utime(path, (epoch, epoch))


_DEB_ARCH = {"linux/amd64": "amd64", "linux/arm64": "arm64"}


def _fetch_system(plan: BuildPlan, layer: Layer, dest: Path, cache_dir: Path | None) -> None:
    if plan.base.apt_source is None:
        raise ContextError(
            f"base {plan.base.name} has no Debian archive to fetch {', '.join(layer.system)} from"
        )
    mirror, suite, *components = plan.base.apt_source.split()
    requests = [
        DebRequest(name=name, version=version)
        for name, _, version in (item.partition("=") for item in layer.system)
    ]
    fetch_debs(
        requests,
        mirror=mirror,
        suite=suite,
        components=components,
        arch=_DEB_ARCH[plan.platform],
        dest=dest,
        cache_dir=cache_dir.parent / "debs" if cache_dir else None,
    )


def wheel_target(plan: BuildPlan) -> Target:
    """The Python, architecture and glibc of the plan's base: what every wheel must run on."""
    major, _, minor = plan.base.glibc.partition(".")
    return Target(
        python=Version(plan.base.python_version),
        platform=plan.platform,
        glibc=(int(major), int(minor)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefetchedLayer:
    """A Python layer the backend already holds (a registry's layer cache): its wheelhouse
    gets the requirements.txt it was made from, and none of its wheels is fetched."""

    requirements: str
    wheels: tuple[tuple[str, str, str, str], ...]  # name, version, filename, sha256


def _prefetched(layer: PrefetchedLayer, dest: Path) -> tuple[FetchedWheel, ...]:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "requirements.txt").write_text(layer.requirements, encoding="utf-8")
    return tuple(
        FetchedWheel(
            name=canonicalize_name(name),
            version=Version(version),
            path=dest / filename,
            sha256=sha256,
            filename=filename,
        )
        for name, version, filename, sha256 in layer.wheels
    )


def assemble(
    plan: BuildPlan,
    project: Path,
    context: Path,
    *,
    cache_dir: Path | None = None,
    tools: bool = True,
    prefetched: Mapping[str, PrefetchedLayer] | None = None,
) -> tuple[FetchedWheel, ...]:
    """Write the whole build context of `plan` into the empty folder `context`.

    `tools`: fetch the build tools (pip) too, for a backend that runs them. `prefetched`:
    Python layers, by name, whose wheels are not fetched (the backend has the layer).

    Raises `WheelhouseError` (fetch, hash or platform problems), `DebError` (system packages)
    or `ContextError` (a model artifact or application file that changed after the checks, or
    a write that failed, such as on a full disk).
    """
    try:
        return _assemble(
            plan, project, context, cache_dir, tools=tools, prefetched=prefetched or {}
        )
    except OSError as e:
        where = Path(e.filename) if isinstance(e.filename, str) else context
        raise ContextError(write_problem(where, "the build context", e)) from e


def _assemble(
    plan: BuildPlan,
    project: Path,
    context: Path,
    cache_dir: Path | None,
    *,
    tools: bool,
    prefetched: Mapping[str, PrefetchedLayer],
) -> tuple[FetchedWheel, ...]:
    target = wheel_target(plan)
    fetched: list[FetchedWheel] = []
    if tools:
        fetched.extend(fetch_wheels(plan.build_tools, target, context / "tools", cache_dir))
    for layer in plan.python_layers:
        dest = context / "wheels" / layer.name
        if layer.name in prefetched:
            fetched.extend(_prefetched(prefetched[layer.name], dest))
            continue
        wheels = fetch_wheels(layer.packages, target, dest, cache_dir)
        (dest / "requirements.txt").write_text(_requirements(wheels), encoding="utf-8")
        fetched.extend(wheels)
    for layer in plan.layers:
        if layer.kind is LayerKind.SYSTEM:
            _fetch_system(plan, layer, context / "system", cache_dir)
        elif layer.kind is LayerKind.ARTIFACTS:
            for f in layer.files:
                _copy_verified(
                    project / f.source,
                    context / "artifacts" / f.dest.lstrip("/"),
                    f.sha256,
                    "model artifact",
                )
        elif layer.kind is LayerKind.APP:
            for f in layer.files:
                _copy_verified(
                    project / f.source, context / "app" / f.source, f.sha256, "application file"
                )
    meta = context / "meta" / PurePosixPath(PLAN_PATH_IN_IMAGE).name
    meta.parent.mkdir()
    meta.write_text(plan.to_json(), encoding="utf-8")
    (context / "Dockerfile").write_text(render_dockerfile(plan), encoding="utf-8")
    (context / ".dockerignore").write_text(render_dockerignore(), encoding="utf-8")
    _normalize(context, source_date_epoch())
    created = image_created(project)
    if created is not None:
        (context / CREATED_FILE).write_text(f"{created}\n", encoding="utf-8")
    return tuple(fetched)
