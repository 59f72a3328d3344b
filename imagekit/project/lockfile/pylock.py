"""PEP 751 `pylock.toml` / `pylock.<name>.toml`, lock-version 1.x.

Each `[[packages]]` entry comes either from an index (`sdist` and/or `wheels`) or from
exactly one of `vcs`, `directory` or `archive`. Every file's `hashes.sha256` is kept; other
hash algorithms are not.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from imagekit.errors import Location
from imagekit.project.lockfile._common import (
    check_wheel,
    entry_lines,
    filename_of,
    key_line,
    lock_errors,
    marker_of,
    parse_toml,
    sha256_digest,
    specifier_of,
    unique,
    version_of,
)
from imagekit.project.lockfile.interface import (
    Dependency,
    Lock,
    LockedFile,
    LockedPackage,
    LockError,
    LockFormat,
    SourceKind,
    canonical,
)
from imagekit.tomlfile import Table

_FILE_NAME = re.compile(r"pylock\.[^.]+\.toml")

_Source = tuple[SourceKind, str | None, bool, tuple[LockedFile, ...]]


class PylockReader:
    """Reads `pylock.toml` and `pylock.<name>.toml` (the names PEP 751 allows)."""

    format: LockFormat = LockFormat.PYLOCK

    def matches(self, path: Path) -> bool:
        return path.name == "pylock.toml" or bool(_FILE_NAME.fullmatch(path.name))

    def read(self, path: Path, text: str) -> Lock:
        """Parse a pylock file.

        Raises `LockError` for malformed TOML, a lock-version other than 1.x, a wrongly
        typed or missing required key, or a package whose sources contradict each other.
        """
        root = Table(parse_toml(path, text), path)
        _check_version(root, text)
        _check_packages_key(root, text)
        with lock_errors():
            tables = root.tables("packages")
            requires_python = specifier_of(
                root.get_str("requires-python"), root.location("requires-python")
            )
        lines = entry_lines(text, "packages", len(tables))
        packages = tuple(_package(t, line) for t, line in zip(tables, lines, strict=True))
        return Lock(
            path=path,
            format=self.format,
            packages=packages,
            requires_python=requires_python,
            index_urls=unique(p.index for p in packages),
        )


def _check_version(root: Table, text: str) -> None:
    """Raises `LockError` unless `lock-version` is 1.x (a newer minor is read as 1.0)."""
    line = key_line(text, "lock-version")
    where = Location(file=root.file, line=line, key="lock-version")
    with lock_errors(line):
        raw = root.req_str("lock-version")
    if version_of(raw, where).major != 1:
        raise LockError(
            where,
            f'"{raw}" is not supported: imagekit reads lock-version 1.x',
            "regenerate the lock with a tool that writes lock-version 1.x",
        )


def _check_packages_key(root: Table, text: str) -> None:
    """Raises `LockError` unless the required `[[packages]]` array is there.

    The pylock.toml specification (packaging.python.org/en/latest/specifications/pylock-toml/,
    from PEP 751) makes `[[packages]]` required: a lock without it is not an empty lock but a
    broken or hand-written one, and reading it as 0 packages would build an image without them.
    """
    if "packages" in root:
        return
    if "package" in root:  # uv.lock's and poetry.lock's spelling
        raise LockError(
            Location(file=root.file, line=entries_line(text, "package"), key="package"),
            "pylock.toml names its entries [[packages]], not [[package]]",
            "rename [[package]] to [[packages]] or regenerate the lock",
        )
    raise LockError(
        Location(file=root.file, key="packages"),
        "required key is missing (PEP 751: a pylock.toml lists its entries as [[packages]])",
        "regenerate the lock; an environment with nothing to install has `packages = []`",
    )


def entries_line(text: str, key: str) -> int | None:
    """The line of the first `[[key]]` header, if there is one."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() == f"[[{key}]]":
            return number
    return None


def _package(t: Table, line: int | None) -> LockedPackage:
    """One `[[packages]]` entry; raises `LockError` with its line and key path."""
    with lock_errors(line):
        raw_name = t.req_str("name")
        name = canonical(raw_name)
        raw_version = t.get_str("version")
        version = None if raw_version is None else version_of(raw_version, t.location("version"))
        files = _distributions(t, name, version)
        source, url, editable, direct_files = _source(t, has_files=bool(files))
        files += direct_files
        return LockedPackage(
            name=name,
            raw_name=raw_name,
            location=Location(file=t.file, line=line, key=t.path),
            version=version,
            specifier="" if version is None else f"=={version}",
            hashes=frozenset(f.sha256 for f in files if f.sha256),
            files=files,
            marker=marker_of(t.get_str("marker"), t.location("marker")),
            requires_python=specifier_of(
                t.get_str("requires-python"), t.location("requires-python")
            ),
            source=source,
            url=url,
            index=t.get_str("index"),
            editable=editable,
            dependencies=_dependencies(t),
        )


def _distributions(
    t: Table, name: NormalizedName, version: Version | None
) -> tuple[LockedFile, ...]:
    """The sdist and wheels; raises `LockError` for a wheel of another package."""
    sdist = t.table("sdist")
    files = [] if sdist is None else [_file(sdist)]
    for wheel_table in t.tables("wheels"):
        wheel = _file(wheel_table)
        check_wheel(wheel, name, version, wheel_table.location())
        files.append(wheel)
    return tuple(files)


def _file(t: Table) -> LockedFile:
    """A file table (`url` or `path`, `hashes`, `size`); `url` keeps a path as written."""
    url, path = t.get_str("url"), t.get_str("path")
    where = url or path
    if where is None:
        raise LockError(t.location(), "needs `url` or `path`", "regenerate the lock")
    digest = t.str_map("hashes").get("sha256")
    return LockedFile(
        filename=t.get_str("name") or filename_of(where),
        sha256=None if digest is None else sha256_digest(digest, t.location("hashes.sha256")),
        url=where,
        size=t.get_int("size"),
    )


def _source(t: Table, *, has_files: bool) -> _Source:
    """Where the package comes from: an index (files) or exactly one direct source."""
    vcs, directory, archive = t.table("vcs"), t.table("directory"), t.table("archive")
    direct = [s for s in (vcs, directory, archive) if s is not None]
    if has_files and direct:
        raise LockError(
            t.location(),
            "sets sdist or wheels and also vcs, directory or archive",
            "keep one kind of source; regenerate the lock",
        )
    if not has_files and len(direct) != 1:
        raise LockError(
            t.location(),
            "needs sdist or wheels, or exactly one of vcs, directory, archive",
            "regenerate the lock",
        )
    if vcs is not None:
        return SourceKind.VCS, _vcs_url(vcs), False, ()
    if directory is not None:
        return SourceKind.DIRECTORY, directory.req_str("path"), directory.get_bool("editable"), ()
    if archive is not None:
        file = _file(archive)
        kind = SourceKind.URL if archive.get_str("url") else SourceKind.PATH
        return kind, file.url, False, (file,)
    return SourceKind.INDEX, None, False, ()


def _vcs_url(vcs: Table) -> str:
    """A pip-style VCS URL pinned to the locked commit: `git+https://...@<commit-id>`."""
    where = vcs.get_str("url") or vcs.get_str("path")
    if where is None:
        raise LockError(vcs.location(), "needs `url` or `path`", "regenerate the lock")
    url = f"{vcs.req_str('type')}+{where}@{vcs.req_str('commit-id')}"
    subdirectory = vcs.get_str("subdirectory")
    return f"{url}#subdirectory={subdirectory}" if subdirectory else url


def _dependencies(t: Table) -> tuple[Dependency, ...] | None:
    """The `dependencies` entries (name, and version where given); None where absent."""
    if "dependencies" not in t:
        return None
    out = []
    for dep in t.tables("dependencies"):
        raw = dep.get_str("version")
        version = None if raw is None else version_of(raw, dep.location("version"))
        specifier = SpecifierSet() if version is None else SpecifierSet(f"=={version}")
        out.append(Dependency(name=canonical(dep.req_str("name")), specifier=specifier))
    return tuple(out)


READER = PylockReader()  # found by its LockFormat value: see reader_for
