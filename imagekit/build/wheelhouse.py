"""The hermetic wheelhouse: wheels fetched on the host, checked against the lock's hashes.

An image build never contacts a package index. `fetch_wheels` finds each locked wheel in a
content-addressed cache (`<cache>/sha256/<hash>/<filename>`) or downloads it with the host's
own pip, so pip's configuration (index URLs, find-links, certificates, proxies) applies,
verifies its sha256 against the lock, and copies it into a wheelhouse directory that a build
context (or the OCI assembler) installs from with `--no-index`.

A wheel's cache entry (`<cache>/sha256/<hash>/`) is held shared (`imagekit.cache.lock`) from the
lookup until the wheel is linked into the wheelhouse, and marked used (the folder's mtime: the
wheel file keeps its fixed one), so `imagekit cache prune` never removes it in between.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, parse_wheel_filename
from packaging.version import Version

from imagekit import progress
from imagekit.cache.lock import using
from imagekit.cachedir import wheel_cache
from imagekit.errors import ImagekitError
from imagekit.fsio import copy_file, write_text
from imagekit.image.digest import file_state, sha256_file
from imagekit.proc import Finished, run
from imagekit.project.lockfile.interface import PinnedPackage
from imagekit.project.target import Target

_WORKERS = 4
_PIP_TIMEOUT_S = 3600  # one wheel; a CUDA one is gigabytes
_TAGS_SHOWN = 3
_GOT_HASH = re.compile(r"Got\s+([0-9a-f]{64})")
_UNREACHABLE = re.compile(r"after connection broken by|Could not fetch URL")
_PIP_FILE = re.compile(r"/([^/\s#]+\.whl)\b")
# A cached wheel is stored as a build context wants it (mode 0644, mtime 1980-01-01, the default
# SOURCE_DATE_EPOCH), so the context's hard link to it needs no change and the cache none either.
CACHED_MODE = 0o644
CACHED_MTIME = 315532800


class WheelhouseError(ImagekitError):
    """A locked wheel could not be fetched, does not fit the target, or fails its hash."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedWheel:
    """A verified wheel in the wheelhouse."""

    name: NormalizedName
    version: Version
    path: Path
    sha256: str
    filename: str


def fetch_wheels(
    requests: Sequence[PinnedPackage],
    target: Target,
    dest: Path,
    cache_dir: Path | None = None,
) -> tuple[FetchedWheel, ...]:
    """Put one verified wheel per request for `target` into `dest`, sorted by name and version.

    Raises `WheelhouseError` listing every request that has no wheel for the target, whose
    download fails its hashes, or that pip cannot fetch; `dest` then gains no file.
    """
    cache = cache_dir or wheel_cache()
    dest.mkdir(parents=True, exist_ok=True)
    ordered = sorted(requests, key=lambda r: (r.name, r.version))
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}-") as tmp:
        staging = Path(tmp)
        with (
            progress.step(f"wheels: {len(ordered)} for {target}") as shown,
            ThreadPoolExecutor(max_workers=_WORKERS) as pool,
        ):
            outcomes = list(
                pool.map(lambda r: _fetch_one(r, target, staging, cache, shown), ordered)
            )
        problems = [o for o in outcomes if isinstance(o, str)]
        if problems:
            raise WheelhouseError(problems)
        staged = [o for o in outcomes if isinstance(o, FetchedWheel)]
        return tuple(_move_into(wheel, dest) for wheel in staged)


def _fetch_one(
    request: PinnedPackage, target: Target, staging: Path, cache: Path, shown: progress.Step
) -> FetchedWheel | str:
    """The request's wheel in `staging` (from the cache or pip), or a problem to report; its
    size counted on `shown`."""
    try:
        with ExitStack() as held:
            for digest in sorted(request.sha256):
                if (cache / "sha256" / digest).is_dir():  # most hashes are other platforms'
                    held.enter_context(using(cache, digest, cache / "sha256" / digest))
            cached = _from_cache(request, target, cache) or _fetch(
                request, target, staging, cache, held
            )
            staged = _stage(request, cached, staging)
        shown.advance(staged.path.stat().st_size)
        return staged
    except WheelhouseError as e:
        return str(e)


def _fetch(
    request: PinnedPackage, target: Target, staging: Path, cache: Path, held: ExitStack
) -> FetchedWheel:
    """The request's wheel downloaded, verified and stored in the cache, its entry held in
    `held` until the caller has linked it."""
    workdir = Path(tempfile.mkdtemp(dir=staging, prefix=f"{request.name}-"))
    wheel = _download(request, target, workdir)
    held.enter_context(using(cache, wheel.sha256, cache / "sha256" / wheel.sha256))
    return _fetched(request, _store(wheel.path, wheel.sha256, cache), wheel.sha256)


def _stage(request: PinnedPackage, cached: FetchedWheel, staging: Path) -> FetchedWheel:
    path = staging / cached.filename
    _link_or_copy(cached.path, path)
    return FetchedWheel(
        name=request.name,
        version=request.version,
        path=path,
        sha256=cached.sha256,
        filename=cached.filename,
    )


def _move_into(wheel: FetchedWheel, dest: Path) -> FetchedWheel:
    final = dest / wheel.filename
    wheel.path.replace(final)
    return FetchedWheel(
        name=wheel.name,
        version=wheel.version,
        path=final,
        sha256=wheel.sha256,
        filename=wheel.filename,
    )


def _from_cache(request: PinnedPackage, target: Target, cache: Path) -> FetchedWheel | None:
    """The best-ranked cached wheel with one of the request's hashes, verified (`_verified`);
    or None."""
    found: list[tuple[int, Path, str]] = []
    for digest in sorted(request.sha256):
        for path in sorted((cache / "sha256" / digest).glob("*.whl")):
            rank = target.rank(path.name)
            if rank is not None and _wheel_is(path.name, request):
                found.append((rank, path, digest))
    for _, path, digest in sorted(found):
        if _verified(path, digest):
            return _fetched(request, path, digest)
        # A corrupted or tampered cache entry is dropped and fetched again.
        shutil.rmtree(path.parent, ignore_errors=True)
    return None


def _verified(path: Path, digest: str) -> bool:
    """`path` hashes to `digest`: hashed again only when the file changed since it last did.

    A torch build's wheels are 3 GB; hashing them on every build was most of a rebuild. The
    stamp beside the wheel (`.<wheel>.verified`) records its `file_state` when it last matched.
    """
    stamp = path.with_name(f".{path.name}.verified")
    try:
        mark = f"sha256:{digest} {file_state(path)}\n"
    except OSError:
        return False
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if stamp.read_text(encoding="ascii") == mark:
            return True
    if sha256_file(path) != digest:
        return False
    with contextlib.suppress(OSError):
        write_text(stamp, mark)
    return True


def _wheel_is(filename: str, request: PinnedPackage) -> bool:
    name, version, _, _ = parse_wheel_filename(filename)
    return name == request.name and version == request.version


def _fetched(request: PinnedPackage, path: Path, digest: str) -> FetchedWheel:
    return FetchedWheel(
        name=request.name, version=request.version, path=path, sha256=digest, filename=path.name
    )


def _download(request: PinnedPackage, target: Target, workdir: Path) -> FetchedWheel:
    """Download the request's wheel with pip into the empty `workdir` and verify it.

    Raises `WheelhouseError` when no wheel fits the target, the hash does not match, or pip
    fails otherwise.
    """
    _check_locked_files(request, target)
    result = _run_pip(request, target, workdir)
    if result.returncode != 0:
        raise WheelhouseError([_pip_problem(request, target, result.error_text)])
    wheels = sorted(workdir.glob("*.whl"))
    if len(wheels) != 1 or target.rank(wheels[0].name) is None:
        names = ", ".join(p.name for p in sorted(workdir.iterdir()) if p.is_file()) or "nothing"
        raise WheelhouseError([f"{request.pin}: pip saved {names}, not one wheel for {target}"])
    digest = sha256_file(wheels[0])
    if digest not in request.sha256:
        raise WheelhouseError([_mismatch(request, wheels[0].name, digest)])
    return _fetched(request, wheels[0], digest)


def _check_locked_files(request: PinnedPackage, target: Target) -> None:
    """Fail before any download when the lock names files and none is a wheel for `target`."""
    if request.filenames and not any(target.rank(f) is not None for f in request.filenames):
        raise WheelhouseError([_no_wheel(request, target)])


def _run_pip(request: PinnedPackage, target: Target, workdir: Path) -> Finished:
    """`pip download` of exactly the pinned wheel for `target`, under the host's pip config.

    pip expands no `manylinux_2_X` tag to older glibc versions by itself, so every platform
    tag the target accepts is passed. The hashes make pip prefer a file the lock lists.
    """
    hashes = " ".join(f"--hash=sha256:{h}" for h in sorted(request.sha256))
    requirements = workdir / "requirement.txt"
    requirements.write_text(f"{request.pin} {hashes}\n")
    platforms = [arg for tag in target.platform_tags() for arg in ("--platform", tag)]
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-input", "--progress-bar=off", "--disable-pip-version-check",
        "--python-version", f"{target.python.major}.{target.python.minor}",
        "--implementation", "cp", "--abi", target.abi, *platforms,
        "-d", str(workdir), "-r", str(requirements),
    ]  # fmt: skip
    # The lock is the resolution: a host-wide constraints file could only reject its pins.
    env = {**os.environ, "PIP_CONSTRAINT": "/dev/null"}
    result = run(command, what=f"pip download {request.pin}", timeout=_PIP_TIMEOUT_S,
                 error=lambda m: WheelhouseError([m]), check=False, env=env)  # fmt: skip
    requirements.unlink()
    return result


def _pip_problem(request: PinnedPackage, target: Target, stderr: str) -> str:
    if "DO NOT MATCH THE HASHES" in stderr:
        got = _GOT_HASH.search(stderr)
        file = _PIP_FILE.search(stderr)
        return _mismatch(request, file and file.group(1), got.group(1) if got else "unknown")
    if "No matching distribution found" in stderr:
        if _UNREACHABLE.search(stderr):
            return (
                f"{request.pin}: pip could not reach the package index; check the network "
                "and pip's index-url, proxy and cert settings (pip config list)"
            )
        return _no_wheel(request, target)
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    last = errors[-1].removeprefix("ERROR:").strip() if errors else stderr.strip()[-300:]
    return f"{request.pin}: pip download failed: {last}"


def _mismatch(request: PinnedPackage, filename: str | None, actual: str) -> str:
    what = filename or "the downloaded wheel"
    expected = ", ".join(sorted(request.sha256))
    return (
        f"{request.pin}: sha256 of {what} is {actual}, not one the lock lists ({expected}); "
        "re-lock if the package was republished, otherwise the file was tampered with"
    )


def _no_wheel(request: PinnedPackage, target: Target) -> str:
    tags = [str(t) for t in target.tags()]
    shown = ", ".join(tags[:_TAGS_SHOWN])
    return (
        f"{request.pin}: no wheel for {target} (searched {len(tags)} tags: {shown}, ...); "
        "build a wheel for it, or pin a version that publishes one"
    )


def _store(path: Path, digest: str, cache: Path) -> Path:
    """Copy a verified wheel into the cache atomically; returns its cached path."""
    entry = cache / "sha256" / digest
    entry.mkdir(parents=True, exist_ok=True)
    final = entry / path.name
    if not final.exists():
        copy_file(path, final, mode=CACHED_MODE, mtime=CACHED_MTIME)
    return final


def _link_or_copy(source: Path, target: Path) -> None:
    # A hard link costs nothing for a 600 MB cuDNN wheel; across file systems, copy.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
