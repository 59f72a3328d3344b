"""`imagekit base build NAME`: build a catalog base image in a Docker daemon.

A recipe base is a Debian rootfs made by mmdebstrap and imported as one layer; an image base
is pulled by digest (and, if asked, given Python with apt: the one step that needs a network);
a base FROM another base adds its Python packages from a hermetic wheelhouse. Every base is
tagged `base.local_tag` only once it is complete, and an existing image whose recipe label
matches is reused.

The rootfs's file times are clamped to `SOURCE_DATE_EPOCH` (a constant, so the same recipe and
the same Debian archive give the same files); `docker import` still stamps the image config with
the import time, so image IDs differ between daemons. The OCI backend is the bit-for-bit path.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import docker
from docker.errors import APIError, DockerException, ImageNotFound

from imagekit.build.bases import BaseBuilderKind, ensure
from imagekit.build.bases.recipe import (
    BUILDER_LABEL,
    BUILDER_REVISION,
    RECIPE_LABEL,
    SOURCE_DATE_EPOCH,
    Log,
    base_env,
    base_labels,
    make_rootfs,
    package_requests,
    package_target,
)
from imagekit.build.wheelhouse import fetch_wheels
from imagekit.daemon import BuildOptions, DockerBuildError, build_image, import_rootfs
from imagekit.errors import ImagekitError
from imagekit.plan.catalog import BaseImage, ImageSource, RecipeSource
from imagekit.plan.model import BUILD_PIP


class BaseBuildError(ImagekitError):
    """A base image could not be built, pulled or tagged."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseBuildResult:
    tag: str
    image_id: str
    reused: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Build:
    """One base's build: where it happens, and the untagged images made on the way."""

    base: BaseImage
    client: docker.DockerClient
    workdir: Path
    cache_dir: Path | None
    log: Log
    made: list[str]

    def say(self, message: str) -> None:
        self.log(f"{self.base.name}: {message}")


class DockerBaseBuilder:
    """Builds catalog bases in a Docker daemon, each tagged `base.local_tag` once complete."""

    kind: ClassVar[BaseBuilderKind] = BaseBuilderKind.DOCKER

    def __init__(self, client: docker.DockerClient, *, cache_dir: Path | None, log: Log) -> None:
        self.client, self.cache_dir, self.log = client, cache_dir, log

    def reusable(self, base: BaseImage) -> BaseBuildResult | None:
        image_id = reusable_id(base, self.client)
        if image_id is None:
            return None
        self.log(f"{base.name}: reusing {base.local_tag}")
        return BaseBuildResult(tag=base.local_tag, image_id=image_id, reused=True)

    def build(self, base: BaseImage, parent: BaseBuildResult | None) -> BaseBuildResult:
        """Raises `BaseBuildError` or `WheelhouseError`; the images made on the way are
        removed on failure, and no tag is left."""
        with (
            tempfile.TemporaryDirectory(prefix="imagekit-base-") as tmp,
            _untagged_on_error(self.client) as ids,
        ):
            build = _Build(base=base, client=self.client, workdir=Path(tmp),
                           cache_dir=self.cache_dir, log=self.log, made=ids)  # fmt: skip
            image_id = _build(build, parent)
            repository, tag = base.local_tag.rsplit(":", 1)
            self.client.api.tag(image_id, repository, tag)
        self.log(f"{base.name}: built {base.local_tag} ({image_id[:19]})")
        return BaseBuildResult(tag=base.local_tag, image_id=image_id, reused=False)


def build_base(
    base: BaseImage,
    client: docker.DockerClient,
    *,
    cache_dir: Path | None = None,
    log: Log,
) -> BaseBuildResult:
    """Build `base` (its parents first) and tag it `base.local_tag`, or reuse that image.

    Raises `BaseBuildError` (mmdebstrap missing or failing, an unreachable registry, a failed
    Dockerfile build) and `WheelhouseError` (the base's wheels); no tag is left on failure.
    """
    return ensure(DockerBaseBuilder(client, cache_dir=cache_dir, log=log), base)


def reusable_id(base: BaseImage, client: docker.DockerClient) -> str | None:
    """The ID of an image tagged `base.local_tag` built from this very recipe, or None."""
    try:
        image = client.images.get(base.local_tag)
    except ImageNotFound:
        return None
    labels = image.labels or {}
    if (
        labels.get(RECIPE_LABEL) == base.recipe_hash
        and labels.get(BUILDER_LABEL) == BUILDER_REVISION
    ):
        return str(image.id)
    return None


@contextmanager
def _untagged_on_error(client: docker.DockerClient) -> Iterator[list[str]]:
    """Collects the IDs of images made on the way; removes them if the build fails (or Ctrl-C)."""
    ids: list[str] = []
    try:
        yield ids
    except BaseException:
        for image_id in reversed(ids):
            # Gone already, or tagged elsewhere (a build cache hit): not ours to remove.
            with suppress(DockerException):
                client.api.remove_image(image_id)
        raise


def _build(build: _Build, parent: BaseBuildResult | None) -> str:
    """The untagged image ID of the base, built from its source and then its own packages."""
    source = build.base.source
    if isinstance(source, RecipeSource):
        image = _from_recipe(build, source)
        build.made.append(image)
    elif isinstance(source, ImageSource):
        image = _from_registry(build, source)
        build.made.append(image)
    elif parent is not None:
        image = parent.tag
    else:  # the catalog gives every base without a source a parent
        raise BaseBuildError(f"{build.base.name}: has neither a [source] nor a parent base")
    if build.base.own_packages:
        image = _with_packages(build, image)
        build.made.append(image)
    return image


def _from_recipe(build: _Build, source: RecipeSource) -> str:
    """Run mmdebstrap into a tarball and import it as a one-layer image; returns its ID."""
    base = build.base
    arch = _check_platform(build).removeprefix("linux/")
    tarball = build.workdir / "rootfs.tar"
    make_rootfs(base, source, tarball, arch, log=build.log, error=BaseBuildError)
    build.say(f"importing the {tarball.stat().st_size // 2**20} MiB rootfs")
    try:
        return import_rootfs(build.client, tarball, _final_config(base))
    except DockerBuildError as e:
        raise BaseBuildError(f"{base.name}: {e}") from e


def _from_registry(build: _Build, source: ImageSource) -> str:
    """Pull the image by digest and add the venv (and `setup_packages` with apt, online)."""
    base = build.base
    build.say(f"pulling {source.reference}")
    try:
        build.client.images.pull(source.image, tag=source.digest)
    except (APIError, OSError) as e:
        cause = str(getattr(e, "explanation", None) or e).splitlines()[0][:200]
        raise BaseBuildError(
            f"{base.name}: cannot pull {source.reference}: the registry is unreachable or "
            f"refused it ({cause})"
        ) from e
    steps = []
    if source.setup_packages:
        packages = " ".join(shlex.quote(p) for p in source.setup_packages)
        steps.append(
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
            f"--no-install-recommends {packages} && rm -rf /var/lib/apt/lists/* "
            "/var/cache/apt/* /var/log/dpkg.log /var/log/apt/* /var/log/alternatives.log"
        )
    venv = shlex.quote(base.python.venv)
    steps.append(f"{shlex.quote(base.python.path)} -m venv --without-pip {venv}")
    lines = [f"FROM {source.reference}", f"RUN {' && '.join(steps)}", *_final_config(base)]
    return _docker_build(build, build.workdir / "setup", lines, network="default")


def _with_packages(build: _Build, parent_ref: str) -> str:
    """Install the base's own wheels (fetched and verified on the host) over `parent_ref`."""
    base, context = build.base, build.workdir / "packages"
    target = package_target(base, _check_platform(build))
    requests = package_requests(base)
    build.say(f"fetching {len(requests)} wheels and pip for {target}")
    # The build stage's pip: the same verified wheel model builds use; no base carries pip.
    (pip,) = fetch_wheels([BUILD_PIP], target, context / "tools", build.cache_dir)
    wheels = fetch_wheels(requests, target, context / "wheels", build.cache_dir)
    (context / "wheels" / "requirements.txt").write_text(
        "".join(f"{w.name}=={w.version} --hash=sha256:{w.sha256}\n" for w in wheels)
    )
    return _docker_build(build, context, _packages_dockerfile(base, parent_ref, pip.filename))


def _packages_dockerfile(base: BaseImage, parent_ref: str, pip_wheel: str) -> list[str]:
    """pip, run from its wheel in the build stage only, installs into /stage; the final stage
    copies /stage (file times clamped to SOURCE_DATE_EPOCH) as one layer."""
    pip = [
        f"{base.python.venv}/bin/python", f"/build/tools/{pip_wheel}/pip", "install",
        "--no-index", "--find-links=/build/wheels", "--no-deps", "--no-compile", "--no-cache-dir",
        "--require-hashes", "--root=/stage", "--root-user-action=ignore",
        "--disable-pip-version-check", "--no-warn-script-location",
        "-r", "/build/wheels/requirements.txt",
    ]  # fmt: skip
    touch = f"find /stage -exec touch --no-dereference --date=@{SOURCE_DATE_EPOCH} {{}} +"
    return [
        f"FROM {parent_ref} AS build",
        "COPY tools/ /build/tools/",
        "COPY wheels/ /build/wheels/",
        f"RUN {json.dumps(pip)}",
        f"RUN {touch}",
        f"FROM {parent_ref}",
        "COPY --from=build /stage/ /",
        *_final_config(base),
    ]


def _final_config(base: BaseImage) -> list[str]:
    return [_instruction("LABEL", base_labels(base)), _instruction("ENV", base_env(base))]


def _instruction(keyword: str, values: Mapping[str, str]) -> str:
    """`LABEL k="v" ...` / `ENV k="v" ...` with every value quoted and escaped."""
    pairs = " ".join(f"{key}={json.dumps(value)}" for key, value in sorted(values.items()))
    return f"{keyword} {pairs}"


def _docker_build(
    build: _Build, context: Path, dockerfile: list[str], *, network: str = "none"
) -> str:
    """Build `dockerfile` in `context` untagged; returns its ID. Raises `BaseBuildError`."""
    context.mkdir(parents=True, exist_ok=True)
    header = f"# generated by imagekit base build {build.base.name}\n"
    (context / "Dockerfile").write_text(header + "\n".join(dockerfile) + "\n")
    try:
        return build_image(
            build.client, context, log=build.say, options=BuildOptions(network=network)
        )
    except DockerBuildError as e:
        raise BaseBuildError(f"{build.base.name}: {e}") from e


def _check_platform(build: _Build) -> str:
    """The daemon's platform (`linux/amd64`), if the base is defined for it.

    Raises `BaseBuildError` for a platform the catalog does not list for the base.
    """
    version = build.client.version()
    daemon = f"{version['Os']}/{version['Arch']}"
    if daemon not in build.base.platforms:
        listed = ", ".join(build.base.platforms)
        raise BaseBuildError(f"{build.base.name}: defined for {listed}, not the daemon's {daemon}")
    return daemon
