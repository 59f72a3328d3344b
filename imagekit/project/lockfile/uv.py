"""`uv.lock`, version 1 (any revision).

uv.lock is a universal lock: one `[[package]]` entry per package version, with the
dependency graph and its markers. The project itself (source `editable = "."` or
`virtual = "."`) is not a package to install: its dependencies become
`Lock.root_dependencies`, where a walk of the graph for one environment starts. A package
that uv forked by environment carries its `resolution-markers` as its marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from imagekit.errors import Location
from imagekit.project.lockfile._common import (
    any_of,
    check_wheel,
    entry_lines,
    filename_of,
    key_line,
    lock_errors,
    marker_of,
    parse_toml,
    prefixed_sha256,
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

_SOURCE_KINDS = {
    "registry": SourceKind.INDEX,
    "git": SourceKind.VCS,
    "url": SourceKind.URL,
    "path": SourceKind.PATH,
    "directory": SourceKind.DIRECTORY,
    "editable": SourceKind.DIRECTORY,
    "virtual": SourceKind.DIRECTORY,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Source:
    kind: SourceKind
    key: str  # the uv.lock source key: registry, git, url, ...
    value: str

    @property
    def is_root(self) -> bool:
        return self.key in ("editable", "virtual") and self.value == "."

    @property
    def url(self) -> str | None:
        if self.kind is SourceKind.INDEX:
            return None
        return _git_url(self.value) if self.kind is SourceKind.VCS else self.value


class UvLockReader:
    """Reads `uv.lock`."""

    format: LockFormat = LockFormat.UV

    def matches(self, path: Path) -> bool:
        return path.name == "uv.lock"

    def read(self, path: Path, text: str) -> Lock:
        """Parse a uv.lock.

        Raises `LockError` for malformed TOML, a version other than 1, a wrongly typed or
        missing required key, an unknown source, or a wheel of another package.
        """
        root = Table(parse_toml(path, text), path)
        _check_version(root, text)
        with lock_errors():
            tables = root.tables("package")
            requires_python = specifier_of(
                root.get_str("requires-python"), root.location("requires-python")
            )
        packages: list[LockedPackage] = []
        root_dependencies: tuple[Dependency, ...] | None = None
        for t, line in zip(tables, entry_lines(text, "package", len(tables)), strict=True):
            with lock_errors(line):
                source = _source(t)
                if source.is_root:
                    root_dependencies = _dependencies(t)
                else:
                    packages.append(_package(t, line, source))
        return Lock(
            path=path,
            format=self.format,
            packages=tuple(packages),
            requires_python=requires_python,
            index_urls=unique(p.index for p in packages),
            root_dependencies=root_dependencies,
        )


def _check_version(root: Table, text: str) -> None:
    """Raises `LockError` unless the top-level `version` is 1."""
    line = key_line(text, "version")
    with lock_errors(line):
        version = root.get_int("version")
    if version != 1:
        raise LockError(
            Location(file=root.file, line=line, key="version"),
            f"uv.lock version {version} is not supported: imagekit reads version 1",
            "lock with a uv release that writes version 1 (uv lock), or update imagekit",
        )


def _source(t: Table) -> _Source:
    """The package's `source`; raises `LockError` for a kind uv.lock 1 does not have."""
    table = t.req_table("source")
    for key, kind in _SOURCE_KINDS.items():
        value = table.get_str(key)
        if value is not None:
            return _Source(kind=kind, key=key, value=value)
    raise LockError(
        table.location(),
        f"unknown source kind {', '.join(table.names()) or '(empty)'}",
        "regenerate the lock with uv",
    )


def _git_url(value: str) -> str:
    """uv's `https://host/repo?rev=...#<commit>` as pip's `git+https://host/repo@<commit>`."""
    parts = urlsplit(value)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    url = f"git+{base}@{parts.fragment}" if parts.fragment else f"git+{base}"
    subdirectory = parse_qs(parts.query).get("subdirectory")
    return f"{url}#subdirectory={subdirectory[0]}" if subdirectory else url


def _package(t: Table, line: int | None, source: _Source) -> LockedPackage:
    """One `[[package]]` entry other than the project itself."""
    raw_name = t.req_str("name")
    name = canonical(raw_name)
    raw_version = t.get_str("version")
    version = None if raw_version is None else version_of(raw_version, t.location("version"))
    files = _files(t, name, version, source)
    return LockedPackage(
        name=name,
        raw_name=raw_name,
        location=Location(file=t.file, line=line, key=t.path),
        version=version,
        specifier="" if version is None else f"=={version}",
        hashes=frozenset(f.sha256 for f in files if f.sha256),
        files=files,
        marker=any_of(t.str_list("resolution-markers"), t.location("resolution-markers")),
        source=source.kind,
        url=source.url,
        index=source.value if source.kind is SourceKind.INDEX else None,
        editable=source.key == "editable",
        dependencies=_dependencies(t),
    )


def _files(
    t: Table, name: NormalizedName, version: Version | None, source: _Source
) -> tuple[LockedFile, ...]:
    """The sdist and wheels; a file without `url`/`path` is the source's own archive."""
    sdist = t.table("sdist")
    files = [] if sdist is None else [_file(sdist, source)]
    for wheel_table in t.tables("wheels"):
        wheel = _file(wheel_table, source)
        check_wheel(wheel, name, version, wheel_table.location())
        files.append(wheel)
    return tuple(files)


def _file(t: Table, source: _Source) -> LockedFile:
    url = t.get_str("url") or t.get_str("path")
    filename = t.get_str("filename") or filename_of(url or source.value)
    raw_hash = t.get_str("hash")
    return LockedFile(
        filename=filename,
        sha256=None if raw_hash is None else prefixed_sha256(raw_hash, t.location("hash")),
        url=url,
        size=t.get_int("size"),
    )


def _dependencies(t: Table) -> tuple[Dependency, ...]:
    """`dependencies`, and each `optional-dependencies` group under `extra == "<group>"`."""
    deps = [_dependency(d, None) for d in t.tables("dependencies")]
    optional = t.table("optional-dependencies")
    if optional is not None:
        for extra in optional.names():
            deps += [_dependency(d, extra) for d in optional.tables(extra)]
    return tuple(deps)


def _dependency(d: Table, extra: str | None) -> Dependency:
    raw_version = d.get_str("version")
    specifier = SpecifierSet()
    if raw_version is not None:
        specifier = SpecifierSet(f"=={version_of(raw_version, d.location('version'))}")
    marker = marker_of(d.get_str("marker"), d.location("marker"))
    if extra is not None:
        condition = f'extra == "{extra}"'
        marker = Marker(condition if marker is None else f"({marker}) and {condition}")
    return Dependency(
        name=canonical(d.req_str("name")),
        specifier=specifier,
        marker=marker,
        extras=d.str_list("extra"),
    )


READER = UvLockReader()  # found by its LockFormat value: see reader_for
