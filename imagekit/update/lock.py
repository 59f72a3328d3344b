"""A proposed lock: `uv pip compile` of the project's requirements.in, in a candidate copy.

Supported layout: `requirements.in` (or `NAME.in` beside `NAME.lock`) next to a hashed
requirements lock that uv compiled from it. Other lock formats (uv.lock, poetry.lock,
pylock.toml) are not supported yet; `find_layout` says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from imagekit.errors import ImagekitError
from imagekit.lockfile import Lock, LockFormat

_LOCK_SUFFIXES = (".lock", ".txt")
_UV_TIMEOUT_S = 600


class UpdateError(ImagekitError):
    """An update cannot be proposed: an unsupported layout, no uv, a failed resolution."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LockLayout:
    """Where the lock and its requirements live, relative to the model folder."""

    lock: Path
    source: Path  # the .in file uv compiles

    def names(self, root: Path) -> tuple[str, str]:
        """The two paths relative to the model folder."""
        return self.source.relative_to(root).as_posix(), self.lock.relative_to(root).as_posix()


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageChange:
    name: NormalizedName
    old: str | None  # None: added
    new: str | None  # None: removed

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "old": self.old, "new": self.new, "kind": self.kind}


def find_layout(lock: Lock, root: Path) -> LockLayout:
    """The requirements.in beside a requirements lock; raises `UpdateError` otherwise."""
    if lock.format is not LockFormat.REQUIREMENTS:
        raise UpdateError(
            f"{lock.path}: `imagekit update` supports requirements.in + a hashed requirements "
            f"lock compiled by uv; {lock.format.value} locks are not supported yet"
        )
    stem = lock.path.name
    for suffix in _LOCK_SUFFIXES:
        stem = stem.removesuffix(suffix)
    for candidate in (lock.path.with_name(f"{stem}.in"), lock.path.with_name("requirements.in")):
        if candidate.is_file():
            if not candidate.resolve().is_relative_to(root.resolve()):
                break
            return LockLayout(lock=lock.path, source=candidate)
    names = " or ".join(dict.fromkeys((f"{stem}.in", "requirements.in")))
    raise UpdateError(
        f"{lock.path}: no {names} beside it: `imagekit update` "
        "recompiles the lock from it (other layouts are not supported yet)"
    )


def uv_binary() -> Path:
    """The uv beside this Python (a venv's bin), else on PATH; raises `UpdateError`."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file():
        return beside
    found = shutil.which("uv")
    if found is None:
        raise UpdateError("uv not found: install it (pip install uv) to propose a lock")
    return Path(found)


def compile_command(
    layout: LockLayout,
    root: Path,
    *,
    python_version: str,
    upgrade: tuple[str, ...],
    exclude_newer: str | None = None,
) -> tuple[str, ...]:
    """uv's arguments, relative to the model folder. `upgrade` holds requirement strings
    (`joblib`, `pillow>=10.3`) to let move; empty: every package may."""
    source, lock = layout.names(root)
    argv = [
        "uv",
        "pip",
        "compile",
        source,
        "--universal",
        "--python-version",
        python_version,
        "--generate-hashes",
        "-o",
        lock,
    ]
    if exclude_newer:
        argv += ["--exclude-newer", exclude_newer]
    if not upgrade:
        return (*argv, "--upgrade")
    for requirement in upgrade:
        argv += ["--upgrade-package", requirement]
    return tuple(argv)


def run_compile(argv: tuple[str, ...], cwd: Path) -> None:
    """Run uv (argv[0] replaced by the real binary) in `cwd`; raises `UpdateError`."""
    command = [str(uv_binary()), *argv[1:]]
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=_UV_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise UpdateError(f"uv pip compile ran past {_UV_TIMEOUT_S} s") from e
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise UpdateError(f"uv pip compile failed (exit {done.returncode}): {tail}")


def pinned_directly(source: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `names` that the .in file pins with ==, which no upgrade can move."""
    wanted = {canonicalize_name(_name_of(n)) for n in names}
    pinned = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        try:
            requirement = Requirement(text) if text and not text.startswith("-") else None
        except InvalidRequirement:
            continue
        if requirement is None or canonicalize_name(requirement.name) not in wanted:
            continue
        if any(s.operator in {"==", "==="} for s in requirement.specifier):
            pinned.append(f"{source.name}:{number}: {text}")
    return tuple(pinned)


def _name_of(requirement: str) -> str:
    try:
        return Requirement(requirement).name
    except InvalidRequirement:
        return requirement


def lock_versions(lock: Lock) -> dict[NormalizedName, str]:
    """Each package's pinned version (several, joined, when markers split it)."""
    versions: dict[NormalizedName, list[str]] = {}
    for pkg in lock.packages:
        versions.setdefault(pkg.name, []).append(str(pkg.version or pkg.specifier))
    return {name: ", ".join(sorted(set(v))) for name, v in versions.items()}


def changes_between(old: Lock, new: Lock) -> tuple[PackageChange, ...]:
    """Added, removed and re-versioned packages, by name."""
    a, b = lock_versions(old), lock_versions(new)
    return tuple(
        PackageChange(name=name, old=a.get(name), new=b.get(name))
        for name in sorted(a.keys() | b.keys())
        if a.get(name) != b.get(name)
    )
