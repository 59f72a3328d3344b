"""Choose the application files a model image receives.

Include/exclude patterns are globs relative to the model folder (`*` stays within one path
segment, `**` spans any number). Version-control data, caches and virtual environments are
never walked. Credential files (`CREDENTIAL_PATTERNS`, matched without regard to case) are
withheld unless an include names the file exactly, and a check warns either way. Only regular
files are copied: a symbolic link is skipped (it could lead out of the model folder), and a
FIFO, device or socket is skipped with a warning (reading a FIFO would block the build).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from imagekit.errors import InputError, Location
from imagekit.limits import shown
from imagekit.paths import kind_of

if TYPE_CHECKING:
    from imagekit.project.spec import ModelSpec

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
# Folders of credentials: walked for application files all the same, so that what they hold is
# withheld with a warning (and may be named on purpose), not dropped without a word.
_CREDENTIAL_DIRS = frozenset({".ssh", ".aws", ".gnupg"})
_SKIPPED_DIRS = ALWAYS_EXCLUDED_DIRS - _CREDENTIAL_DIRS
# Deeper folders than this are not source trees; the walk stops with a clear error.
MAX_APP_DEPTH = 64

# The usual names of files that hold credentials, compared without regard to case (SERVER.KEY is
# a key as much as server.key). Where a name is ambiguous the file is withheld: naming it in
# [app] include copies it, with a warning.
CREDENTIAL_PATTERNS = (
    # environment files (dotenv)
    "**/.env",
    "**/.env.*",
    # private keys: OpenSSH's default names (not the .pub halves), PEM/PKCS#12/Java/PuTTY key
    # stores; a .pem may hold only a certificate, but the name cannot tell
    "**/id_rsa",
    "**/id_dsa",
    "**/id_ecdsa",
    "**/id_ed25519",
    "**/id_ecdsa_sk",
    "**/id_ed25519_sk",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/*.jks",
    "**/*.keystore",
    "**/*.ppk",
    "**/*.kdbx",
    # ssh, gpg and the clouds: whole folders
    "**/.ssh",
    "**/.gnupg",
    "**/.aws",
    "**/.azure",
    "**/.config/gcloud",
    # Google service-account keys and application-default credentials
    "**/application_default_credentials.json",
    "**/*-sa.json",
    "**/*-sa-key.json",
    "**/*service-account*.json",
    "**/*service_account*.json",
    "**/credentials",
    "**/credentials.json",
    "**/credentials.toml",
    "**/credentials.yaml",
    "**/credentials.yml",
    "**/credentials.ini",
    "**/credentials.db",
    "**/.boto",
    "**/.s3cfg",
    # container registries and Kubernetes
    "**/.docker/config.json",
    "**/.dockercfg",
    "**/.kube/config",
    "**/kubeconfig",
    "**/*.kubeconfig",
    # git, npm, PyPI, netrc, HashiCorp
    "**/.git-credentials",
    "**/.netrc",
    "**/_netrc",
    "**/.npmrc",
    "**/.pypirc",
    "**/.vault-token",
    "**/.terraformrc",
    "**/terraform.rc",
    # Terraform state holds every resource attribute, initial database passwords included, as
    # plain-text JSON (developer.hashicorp.com/terraform/language/state/sensitive-data)
    "**/*.tfstate",
    "**/*.tfstate.backup",
    # databases
    "**/.pgpass",
    "**/.my.cnf",
    "**/.mylogin.cnf",
)
_NOISE_PATTERNS = ("**/*.pyc", "**/*.pyo", "**/.DS_Store")


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """The application files to copy, and what was left out or let in that a check reports."""

    files: tuple[PurePosixPath, ...]
    withheld_secrets: tuple[PurePosixPath, ...]  # credential files not copied
    named_secrets: tuple[PurePosixPath, ...] = ()  # credential files copied: named exactly
    special: tuple[tuple[PurePosixPath, str], ...] = ()  # (path, kind): FIFOs, devices, ...
    undecodable: tuple[PurePosixPath, ...] = ()  # names that are not UTF-8


def _translate(pattern: str) -> str:
    """The regular expression of one glob pattern, unanchored."""
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
    return "".join(out)


@lru_cache(maxsize=64)
def _regex(patterns: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    """One expression for a set of patterns, each matching a path or anything below it: one
    compilation per set, not two per pattern, and one match per path (the credential patterns
    alone are some sixty, and every check and build compiles them)."""
    either = "|".join(_translate(p.rstrip("/")) for p in patterns)
    return re.compile(f"(?:{either})(?:/.*)?\\Z", re.IGNORECASE if ignore_case else 0)


def matches(path: PurePosixPath, patterns: tuple[str, ...], *, ignore_case: bool = False) -> bool:
    """Whether `path` (or a folder above it) matches one of the glob `patterns`."""
    return bool(patterns) and _regex(patterns, ignore_case).match(path.as_posix()) is not None


def is_credential(path: PurePosixPath) -> bool:
    """Whether a relative path has one of the usual names of a credential file."""
    return matches(path, CREDENTIAL_PATTERNS, ignore_case=True)


_Entry = tuple[PurePosixPath, str]  # a relative path and its kind: "file", "link" or special


def _walk(root: Path) -> list[_Entry]:
    """Every entry under `root` that is not a folder, with its kind; links are not followed.

    Iterative (a deep tree cannot exhaust Python's stack). Raises `InputError` for a folder
    that cannot be read or folders nested deeper than `MAX_APP_DEPTH`.
    """
    found: list[_Entry] = []
    stack: list[tuple[str, PurePosixPath, int]] = [(os.fspath(root), PurePosixPath(), 0)]
    while stack:
        folder, rel, depth = stack.pop()
        if depth > MAX_APP_DEPTH:
            raise InputError(
                Location(file=root),
                f"folders nest deeper than {MAX_APP_DEPTH} levels ({shown(rel.as_posix())})",
                "exclude the deep folder in [app] exclude, or flatten it",
            )
        for entry in _entries(root, folder, rel):
            path = rel / entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _SKIPPED_DIRS:
                    stack.append((entry.path, path, depth + 1))
            elif entry.is_symlink():
                found.append((path, "link"))
            elif entry.is_file(follow_symlinks=False):
                found.append((path, "file"))
            else:
                found.append((path, kind_of(entry.stat(follow_symlinks=False).st_mode)))
    return sorted(found)


def _entries(root: Path, folder: str, rel: PurePosixPath) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError as e:
        raise InputError(
            Location(file=root),
            f"cannot read folder {shown(rel.as_posix())}: {e.strerror}",
            "make it readable, or exclude it in [app] exclude",
        ) from e


def _utf8(path: PurePosixPath) -> bool:
    try:
        path.as_posix().encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def select_files(
    root: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    reserved: frozenset[PurePosixPath],
) -> Selection:
    """The files under `root` to copy, in sorted order, and what a check reports about them.

    `reserved` files (the spec, the lock, model artifacts) have layers of their own and are
    never application files. Without `include`, everything else is included. Only regular
    files with UTF-8 names are copied; credential files only when `include` names them
    exactly. Raises `InputError` for a folder that cannot be read or is nested too deep.
    """
    named = {PurePosixPath(p) for p in include}
    files: list[PurePosixPath] = []
    secrets: list[PurePosixPath] = []
    named_secrets: list[PurePosixPath] = []
    special: list[tuple[PurePosixPath, str]] = []
    undecodable: list[PurePosixPath] = []
    for path, kind in _walk(root):
        if path in reserved or (include and not matches(path, include)):
            continue
        if matches(path, exclude) or matches(path, _NOISE_PATTERNS):
            continue
        if kind == "link":
            continue  # a link could reach outside the model folder; copy real files only
        if not _utf8(path):
            undecodable.append(path)
        elif kind != "file":
            special.append((path, kind))
        elif is_credential(path) and path not in named:
            secrets.append(path)
        else:
            if is_credential(path):
                named_secrets.append(path)
            files.append(path)
    return Selection(
        files=tuple(files),
        withheld_secrets=tuple(secrets),
        named_secrets=tuple(named_secrets),
        special=tuple(special),
        undecodable=tuple(undecodable),
    )


def select_for_spec(spec: ModelSpec) -> Selection:
    """The application files of a model: everything its patterns select, less the spec, the
    lock and the model artifacts, which have layers of their own."""
    reserved = {PurePosixPath(spec.file.relative_to(spec.root).as_posix())}
    if spec.lockfile.is_relative_to(spec.root):
        reserved.add(PurePosixPath(spec.lockfile.relative_to(spec.root).as_posix()))
    reserved.update(a.path for a in spec.artifacts)
    return select_files(spec.root, spec.app.include, spec.app.exclude, frozenset(reserved))
