"""What a catalog base contains, whichever builder makes it: one recipe, shared.

A recipe base is a Debian rootfs made by mmdebstrap with these options (documentation left out
but for copyright files, caches and logs removed, a venv made); every base carries these labels
and this environment; its own Python packages are these pinned, hashed wheels. The Docker base
builder (`imagekit.build.baseimage`) and the daemonless one (`imagekit.build.oci.base`) both
build from here, so their bases hold the same files.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from imagekit.plan.catalog import BaseImage, RecipeSource
from imagekit.proc import ErrorType, stream
from imagekit.project.lockfile.interface import PinnedPackage
from imagekit.project.target import Target

# 2023-11-14T22:13:20Z. A constant, not the build time: rebuilding a recipe must not change it.
SOURCE_DATE_EPOCH = 1_700_000_000
LABEL_PREFIX = "io.imagekit.base."
RECIPE_LABEL = f"{LABEL_PREFIX}recipe-sha256"
# Bumped whenever the recipe changes what it builds, so older images are not reused.
BUILDER_REVISION = "1"
BUILDER_LABEL = f"{LABEL_PREFIX}builder-revision"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DPKG_EXCLUDES = (  # documentation, but never the copyright files licence checks read
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
)
# Caches, package lists, logs and the host's resolv.conf/hostname (docker mounts its own):
# what would make the rootfs bigger or differ between build machines.
_CLEANUP_HOOK = (
    'rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/cache/ldconfig/aux-cache'
    ' "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old "$1"/etc/resolv.conf "$1"/etc/hostname'
    ' && find "$1"/var/log -mindepth 1 -type f -delete'
    ' && if [ -e "$1"/etc/machine-id ]; then : > "$1"/etc/machine-id; fi'
)
_LOG_TAIL = 3
# mmdebstrap fetches and unpacks a whole distribution (a CUDA base: gigabytes).
_RECIPE_TIMEOUT_S = 2 * 3600

Log = Callable[[str], None]


def base_labels(base: BaseImage) -> dict[str, str]:
    """The labels every base carries: what it is, its recipe hash, OS, Python and CUDA."""
    created = datetime.fromtimestamp(SOURCE_DATE_EPOCH, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        f"{LABEL_PREFIX}name": base.name,
        RECIPE_LABEL: base.recipe_hash,
        BUILDER_LABEL: BUILDER_REVISION,
        f"{LABEL_PREFIX}os": f"{base.os.distro} {base.os.release}",
        f"{LABEL_PREFIX}python": str(base.python.version),
        "org.opencontainers.image.created": created,
    }
    if base.cuda is not None:
        labels[f"{LABEL_PREFIX}cuda"] = str(base.cuda.version)
        labels[f"{LABEL_PREFIX}min-driver"] = base.cuda.min_driver
    return labels


def base_env(base: BaseImage) -> dict[str, str]:
    """The environment every base sets: its venv first on PATH, a UTF-8 locale."""
    env = {
        "PATH": f"{base.python.venv}/bin:{SYSTEM_PATH}",
        "VIRTUAL_ENV": base.python.venv,
        "LANG": "C.UTF-8",
    }
    if base.cuda is not None:  # what the NVIDIA container toolkit reads to expose the GPUs
        env["NVIDIA_VISIBLE_DEVICES"] = "all"
        env["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
    return env


def mmdebstrap_command(
    base: BaseImage, source: RecipeSource, tarball: Path, arch: str
) -> list[str]:
    """mmdebstrap's arguments; another `arch` than the host's needs qemu-user-static."""
    venv = f'chroot "$1" {shlex.quote(base.python.path)} -m venv --without-pip ' + shlex.quote(
        base.python.venv
    )
    mode = "root" if os.geteuid() == 0 else "unshare"
    command = ["mmdebstrap", f"--variant={source.variant}", f"--mode={mode}"]
    command.append(f"--architectures={arch}")
    command.append(f"--components={','.join(source.components)}")
    if source.include:
        command.append(f"--include={','.join(source.include)}")
    command += [f"--dpkgopt={option}" for option in DPKG_EXCLUDES]
    # mmdebstrap's own apt cleanup would recreate lists/lock and lists/partial after our hook.
    command += [f"--customize-hook={venv}", f"--customize-hook={_CLEANUP_HOOK}"]
    command += ["--skip=cleanup/apt", "--format=tar"]
    return [*command, source.suite, str(tarball), source.mirror]


def make_rootfs(
    base: BaseImage, source: RecipeSource, tarball: Path, arch: str, *, log: Log, error: ErrorType
) -> None:
    """Run mmdebstrap into `tarball` (SOURCE_DATE_EPOCH set), each output line to `log`.

    Raises `error` when mmdebstrap is not installed or fails; interrupted, it is stopped first.
    """
    if shutil.which("mmdebstrap") is None:
        raise error(
            f"{base.name}: mmdebstrap is not installed; install it (apt-get install mmdebstrap) "
            "to build this base from its recipe"
        )
    log(f"{base.name}: mmdebstrap {source.suite} ({arch}) from {source.mirror}")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)}
    stream(mmdebstrap_command(base, source, tarball, arch), what=f"{base.name}: mmdebstrap",
           timeout=_RECIPE_TIMEOUT_S, on_line=lambda line: log(f"{base.name}: {line}"),
           error=error, env=env, tail_lines=_LOG_TAIL)  # fmt: skip


def package_requests(base: BaseImage) -> list[PinnedPackage]:
    """The base's own Python packages, pinned and hashed."""
    return list(base.own_packages)


def package_target(base: BaseImage, platform: str) -> Target:
    """The wheels' target: the base's Python and glibc on `platform` (`linux/amd64`)."""
    return Target(python=base.python.version, platform=platform, glibc=base.os.glibc)
