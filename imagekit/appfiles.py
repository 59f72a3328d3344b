"""Choose the application files a model image receives.

Include/exclude patterns are globs relative to the model folder (`*` stays within one path
segment, `**` spans any number). Version-control data, caches, virtual environments, `.env`
files and private keys are never copied unless an include names the file exactly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagekit.spec import ModelSpec

ALWAYS_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".imagekit",
        ".ssh",
        ".aws",
        ".gnupg",
        ".tox",
        "node_modules",
    }
)
_SECRET_PATTERNS = (
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/id_rsa*",
    "**/id_ed25519*",
    "**/id_ecdsa*",
    "**/*.p12",
    "**/*.pfx",
    "**/.netrc",
    "**/.pypirc",
    "**/credentials*",
    "**/*.kdbx",
)
_NOISE_PATTERNS = ("**/*.pyc", "**/*.pyo", "**/.DS_Store")


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    files: tuple[PurePosixPath, ...]
    withheld_secrets: tuple[PurePosixPath, ...]


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(path: PurePosixPath, patterns: tuple[str, ...]) -> bool:
    text = path.as_posix()
    return any(
        _regex(p.rstrip("/")).match(text) or _regex(p.rstrip("/") + "/**").match(text)
        for p in patterns
    )


def _walk(root: Path) -> list[PurePosixPath]:
    found: list[PurePosixPath] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ALWAYS_EXCLUDED_DIRS)
        rel = Path(dirpath).relative_to(root)
        found.extend(PurePosixPath(rel.as_posix()) / name for name in filenames)
    return sorted(found)


def select_files(
    root: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    reserved: frozenset[PurePosixPath],
) -> Selection:
    """The files under `root` to copy, in sorted order, and the secrets that were withheld.

    `reserved` files (the spec, the lock, model artifacts) have layers of their own and are
    never application files. Without `include`, everything else is included.
    """
    named = {PurePosixPath(p) for p in include}
    files, secrets = [], []
    for path in _walk(root):
        if path in reserved or (include and not matches(path, include)):
            continue
        if matches(path, exclude) or matches(path, _NOISE_PATTERNS):
            continue
        if matches(path, _SECRET_PATTERNS) and path not in named:
            secrets.append(path)
            continue
        if (root / path).is_symlink():
            continue  # a link could reach outside the model folder; copy real files only
        files.append(path)
    return Selection(files=tuple(files), withheld_secrets=tuple(secrets))


def select_for_spec(spec: ModelSpec) -> Selection:
    """The application files of a model: everything its patterns select, less the spec, the
    lock and the model artifacts, which have layers of their own."""
    reserved = {PurePosixPath(spec.file.relative_to(spec.root).as_posix())}
    if spec.lockfile.is_relative_to(spec.root):
        reserved.add(PurePosixPath(spec.lockfile.relative_to(spec.root).as_posix()))
    reserved.update(a.path for a in spec.artifacts)
    return select_files(spec.root, spec.app.include, spec.app.exclude, frozenset(reserved))
