"""`poetry.lock`, lock-version 2.x (Poetry 1.3 and later; 2.1 adds `groups` and `markers`).

lock-version 1.x kept the hashes apart from the packages (`[metadata.files]`); imagekit does
not read it and asks for a lock from Poetry 2. Poetry's own constraint syntax (`^1.2`,
`~1.2`, `||`) has no exact PEP 440 equivalent: such a constraint is recorded as none; the
locked version is what matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from imagekit.errors import Location
from imagekit.project.lockfile._common import (
    any_of,
    check_wheel,
    entry_lines,
    key_line,
    lock_errors,
    marker_of,
    parse_toml,
    prefixed_sha256,
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

_Source = tuple[SourceKind, str | None, str | None, bool]  # kind, url, index, editable


class PoetryReader:
    """Reads `poetry.lock`."""

    format: LockFormat = LockFormat.POETRY

    def matches(self, path: Path) -> bool:
        return path.name == "poetry.lock"

    def read(self, path: Path, text: str) -> Lock:
        """Parse a poetry.lock.

        Raises `LockError` for malformed TOML, a lock-version other than 2.x, a wrongly
        typed or missing required key, an unknown source type, or a wheel of another package.
        """
        data = parse_toml(path, text)
        root = Table(data, path)
        requires_python = _metadata(root, text)
        with lock_errors():
            tables = root.tables("package")
        lines = entry_lines(text, "package", len(tables))
        packages = tuple(
            _package(t, raw, line)
            for t, raw, line in zip(tables, data.get("package", []), lines, strict=True)
        )
        return Lock(
            path=path,
            format=self.format,
            packages=packages,
            requires_python=requires_python,
            index_urls=unique(p.index for p in packages),
        )


def _metadata(root: Table, text: str) -> SpecifierSet | None:
    """Check `[metadata] lock-version`; returns its `python-versions`."""
    line = key_line(text, "lock-version", "metadata")
    where = Location(file=root.file, line=line, key="metadata.lock-version")
    with lock_errors(line):
        metadata = root.req_table("metadata")
        raw = metadata.req_str("lock-version")
        python_versions = metadata.get_str("python-versions")
    major = version_of(raw, where).major
    if major != 2:
        fix = (
            "regenerate with Poetry ≥ 2 (poetry lock)"
            if major < 2
            else "update imagekit, or lock with a Poetry release that writes lock-version 2.x"
        )
        raise LockError(where, f'"{raw}" is not supported: imagekit reads lock-version 2.x', fix)
    return _constraint(python_versions)


def _constraint(text: str | None) -> SpecifierSet | None:
    """A Poetry constraint as PEP 440; None for `*` and for Poetry-only syntax."""
    if text is None or text.strip() in ("", "*"):
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None  # ^, ~ or ||: see the module docstring


def _package(t: Table, raw: Mapping[str, Any], line: int | None) -> LockedPackage:
    """One `[[package]]` entry; raises `LockError` with its line and key path."""
    with lock_errors(line):
        raw_name = t.req_str("name")
        name = canonical(raw_name)
        version = version_of(t.req_str("version"), t.location("version"))
        files = tuple(_file(f) for f in t.tables("files"))
        for file, table in zip(files, t.tables("files"), strict=True):
            check_wheel(file, name, version, table.location())
        kind, url, index, editable = _source(t.table("source"))
        return LockedPackage(
            name=name,
            raw_name=raw_name,
            location=Location(file=t.file, line=line, key=t.path),
            version=version,
            specifier=f"=={version}",
            hashes=frozenset(f.sha256 for f in files if f.sha256),
            files=files,
            marker=_markers(t, raw.get("markers")),
            requires_python=_constraint(t.get_str("python-versions")),
            source=kind,
            url=url,
            index=index,
            editable=editable,
            dependencies=_dependencies(t, raw.get("dependencies")),
            groups=t.str_list("groups"),
        )


def _file(t: Table) -> LockedFile:
    raw_hash = t.get_str("hash")
    return LockedFile(
        filename=t.req_str("file"),
        sha256=None if raw_hash is None else prefixed_sha256(raw_hash, t.location("hash")),
    )


def _source(source: Table | None) -> _Source:
    """`[package.source]`: none or `legacy` is an index; git, url, file, directory are direct."""
    if source is None:
        return SourceKind.INDEX, None, None, False
    kind, url = source.req_str("type"), source.req_str("url")
    if kind == "legacy":
        return SourceKind.INDEX, None, url, False
    if kind == "git":
        commit = source.get_str("resolved_reference") or source.get_str("reference")
        vcs_url = f"git+{url}@{commit}" if commit else f"git+{url}"
        subdirectory = source.get_str("subdirectory")
        return SourceKind.VCS, _with_subdirectory(vcs_url, subdirectory), None, False
    if kind == "url":
        return SourceKind.URL, url, None, False
    if kind == "file":
        return SourceKind.PATH, url, None, False
    if kind == "directory":
        return SourceKind.DIRECTORY, url, None, source.get_bool("develop")
    raise LockError(
        source.location("type"),
        f"unknown source type {kind!r} (expected legacy, git, url, file or directory)",
        "regenerate the lock with Poetry 2",
    )


def _with_subdirectory(url: str, subdirectory: str | None) -> str:
    return f"{url}#subdirectory={subdirectory}" if subdirectory else url


def _markers(t: Table, raw: object) -> Marker | None:
    """`markers`: a string, or a table by group (the `main` group's, else any group's)."""
    if raw is None or isinstance(raw, str):
        return marker_of(t.get_str("markers"), t.location("markers"))
    by_group = t.str_map("markers")
    if "main" in by_group:
        return marker_of(by_group["main"], t.location("markers.main"))
    return any_of(by_group.values(), t.location("markers"))


def _dependencies(t: Table, raw: object) -> tuple[Dependency, ...]:
    """`[package.dependencies]`: `name = "constraint"`, a table, or an array of tables."""
    table = t.table("dependencies")
    if table is None or not isinstance(raw, Mapping):
        return ()
    out: list[Dependency] = []
    for dep_name, value in raw.items():
        if isinstance(value, str):
            out.append(Dependency(name=canonical(dep_name), specifier=_specifier(value)))
        elif isinstance(value, list):
            out += [_dependency(dep_name, d) for d in table.tables(dep_name)]
        elif isinstance(value, Mapping):
            out.append(_dependency(dep_name, table.req_table(dep_name)))
        else:
            raise LockError(
                table.location(dep_name),
                "must be a constraint string, a table or an array of tables",
                "regenerate the lock",
            )
    return tuple(out)


def _dependency(name: str, d: Table) -> Dependency:
    return Dependency(
        name=canonical(name),
        specifier=_specifier(d.get_str("version")),
        marker=marker_of(d.get_str("markers"), d.location("markers")),
        extras=d.str_list("extras"),
    )


def _specifier(text: str | None) -> SpecifierSet:
    """A dependency's constraint; Poetry writes an exact pin as a bare version (`13.0.3`)."""
    if text is not None:
        try:
            return SpecifierSet(f"=={Version(text.strip())}")
        except InvalidVersion:
            pass
    return _constraint(text) or SpecifierSet()


READER = PoetryReader()  # found by its LockFormat value: see reader_for
