"""A proposed lock, made by the tool that made the current one, in a candidate copy.

Each lock format has one re-lock recipe, chosen from the files beside the lock:

- a requirements lock: `uv pip compile` of `NAME.in` / `requirements.in` beside it (or of the
  `pyproject.toml` beside it), with hashes, universal; pip-compile's locks are read the same way;
- `uv.lock`: `uv lock` in the folder of its `pyproject.toml`;
- `pylock.toml`: `uv export --format pylock.toml` from a uv project (a `uv.lock` beside it, or a
  lock whose header says uv export made it), else `uv pip compile --format pylock.toml` of the
  `.in` file beside it, else `uv export` from the `pyproject.toml` beside it;
- `poetry.lock`: `poetry update --lock` in the folder of its `pyproject.toml`.

`--upgrade-package` (uv) or the package names (poetry) keep every other pin where it is. A lock
for which no recipe fits is an `UpdateError` naming the lock and the file it lacks.
"""

from __future__ import annotations

import enum
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from imagekit.errors import ImagekitError
from imagekit.proc import run
from imagekit.project.lockfile import Lock, LockFormat

_LOCK_SUFFIXES = (".lock", ".txt", ".toml")
_TOOL_TIMEOUT_S = 600
_UV_EXPORT_HEADER = "uv export --format pylock.toml"


class UpdateError(ImagekitError):
    """An update cannot be proposed: no recipe for the lock, no tool, a failed resolution."""


class Recipe(enum.StrEnum):
    """How a lock is made again."""

    UV_PIP_COMPILE = "uv pip compile"
    UV_PIP_COMPILE_PYLOCK = "uv pip compile --format pylock.toml"
    UV_LOCK = "uv lock"
    UV_EXPORT_PYLOCK = "uv export --format pylock.toml"
    POETRY = "poetry update --lock"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockLayout:
    """Where the lock and what it is made from live, and the recipe that makes it."""

    lock: Path
    source: Path  # the .in file or pyproject.toml the lock is made from
    recipe: Recipe = Recipe.UV_PIP_COMPILE

    def names(self, root: Path) -> tuple[str, str]:
        """The two paths relative to the model folder."""
        return self.source.relative_to(root).as_posix(), self.lock.relative_to(root).as_posix()

    def companions(self) -> tuple[Path, ...]:
        """Files the recipe rewrites beside the lock, promoted with it (uv export's uv.lock)."""
        if self.recipe is Recipe.UV_EXPORT_PYLOCK:
            return (self.source.with_name("uv.lock"),)
        return ()


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
    """The recipe that re-locks `lock`, from the files beside it; raises `UpdateError` naming
    the lock and what it lacks when none fits."""
    path = lock.path
    match lock.format:
        case LockFormat.REQUIREMENTS:
            source = _in_file(path, root) or _beside(path, root, "pyproject.toml")
            if source is None:
                raise _no_recipe(lock, f"{_in_names(path)} or pyproject.toml", "uv pip compile")
            return LockLayout(lock=path, source=source, recipe=Recipe.UV_PIP_COMPILE)
        case LockFormat.PYLOCK:
            return _pylock_layout(lock, root)
        case LockFormat.UV:
            return LockLayout(
                lock=path, source=_project(lock, root, "uv lock"), recipe=Recipe.UV_LOCK
            )
        case LockFormat.POETRY:
            source = _project(lock, root, "poetry update --lock")
            return LockLayout(lock=path, source=source, recipe=Recipe.POETRY)
        case _:
            assert_never(lock.format)


def _pylock_layout(lock: Lock, root: Path) -> LockLayout:
    path = lock.path
    pyproject = _beside(path, root, "pyproject.toml")
    exported = _beside(path, root, "uv.lock") is not None or _UV_EXPORT_HEADER in _head(path)
    in_file = _in_file(path, root)
    if pyproject is not None and (exported or in_file is None):
        return LockLayout(lock=path, source=pyproject, recipe=Recipe.UV_EXPORT_PYLOCK)
    if in_file is not None:
        return LockLayout(lock=path, source=in_file, recipe=Recipe.UV_PIP_COMPILE_PYLOCK)
    what = f"pyproject.toml (uv export) or {_in_names(path)} (uv pip compile)"
    raise _no_recipe(lock, what, "uv")


def _project(lock: Lock, root: Path, tool: str) -> Path:
    pyproject = _beside(lock.path, root, "pyproject.toml")
    if pyproject is None:
        raise _no_recipe(lock, "pyproject.toml", tool)
    return pyproject


def _no_recipe(lock: Lock, wanted: str, tool: str) -> UpdateError:
    return UpdateError(
        f"{lock.path}: no {wanted} beside it: `imagekit update` re-locks a {lock.format.value} "
        f"lock with {tool} from it (fix: add the file the lock was made from)"
    )


def _stem(path: Path) -> str:
    stem = path.name
    for suffix in _LOCK_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem


def _in_names(path: Path) -> str:
    return " or ".join(dict.fromkeys((f"{_stem(path)}.in", "requirements.in")))


def _in_file(path: Path, root: Path) -> Path | None:
    for name in (f"{_stem(path)}.in", "requirements.in"):
        if (found := _beside(path, root, name)) is not None:
            return found
    return None


def _beside(path: Path, root: Path, name: str) -> Path | None:
    """`name` beside `path`, if it is a regular file inside the model folder."""
    candidate = path.with_name(name)
    if candidate.is_file() and candidate.resolve().is_relative_to(root.resolve()):
        return candidate
    return None


def _head(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return f.read(1024)
    except OSError:
        return ""


def _tool_binary(name: str) -> Path:
    """`name` beside this Python (a venv's bin), else on PATH; raises `UpdateError`."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found is None:
        raise UpdateError(f"{name} not found: install it (pip install {name}) to propose a lock")
    return Path(found)


def uv_binary() -> Path:
    """The uv beside this Python (a venv's bin), else on PATH; raises `UpdateError`."""
    return _tool_binary("uv")


def compile_command(
    layout: LockLayout,
    root: Path,
    *,
    python_version: str,
    upgrade: tuple[str, ...],
    exclude_newer: str | None = None,
) -> tuple[str, ...]:
    """The re-lock command, its paths relative to the model folder (where it runs). `upgrade`
    holds requirement strings (`joblib`, `pillow>=10.3`) to let move; empty: every package
    may. poetry takes names only, and has no `--exclude-newer` (an `UpdateError`)."""
    source, lock = layout.names(root)
    folder = layout.source.parent.relative_to(root).as_posix()
    at = () if folder == "." else ("--directory", folder)
    match layout.recipe:
        case Recipe.UV_PIP_COMPILE | Recipe.UV_PIP_COMPILE_PYLOCK:
            pylock = layout.recipe is Recipe.UV_PIP_COMPILE_PYLOCK
            form = ("--format", "pylock.toml") if pylock else ()
            argv = ["uv", "pip", "compile", source, *form, "--universal", "--python-version",
                    python_version, "--generate-hashes", "-o", lock]  # fmt: skip
        case Recipe.UV_LOCK:
            argv = ["uv", "lock", *at]
        case Recipe.UV_EXPORT_PYLOCK:
            argv = ["uv", "export", "--format", "pylock.toml", "-o", layout.lock.name, *at]
        case Recipe.POETRY:
            return _poetry_command(upgrade, exclude_newer, at)
        case _:
            assert_never(layout.recipe)
    if exclude_newer:
        argv += ["--exclude-newer", exclude_newer]
    if not upgrade:
        return (*argv, "--upgrade")
    for requirement in upgrade:
        argv += ["--upgrade-package", requirement]
    return tuple(argv)


def _poetry_command(
    upgrade: tuple[str, ...], exclude_newer: str | None, at: tuple[str, ...]
) -> tuple[str, ...]:
    if exclude_newer:
        raise UpdateError(
            "poetry cannot resolve as of a date: drop --exclude-newer for a poetry.lock project"
        )
    names = tuple(dict.fromkeys(str(canonicalize_name(_name_of(r))) for r in upgrade))
    return ("poetry", "update", "--lock", *names, *at)


def run_compile(argv: tuple[str, ...], cwd: Path) -> None:
    """Run the re-lock command (argv[0] replaced by the real binary) in `cwd`; raises
    `UpdateError` with the tool's last lines of error output."""
    label = " ".join(word for word in argv[:3] if not word.startswith("-"))
    command = [str(_tool_binary(argv[0])), *argv[1:]]
    run(command, what=label, timeout=_TOOL_TIMEOUT_S, error=UpdateError, cwd=cwd)


def pinned_directly(source: Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `names` that the .in file (or pyproject.toml, one requirement a line) pins
    with ==, which no upgrade can move."""
    wanted = {canonicalize_name(_name_of(n)) for n in names}
    pinned = []
    toml = source.suffix == ".toml"
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if toml:  # `    "numpy==2.3.5",` in a dependencies array
            text = text.removesuffix(",").strip().strip("\"'")
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
