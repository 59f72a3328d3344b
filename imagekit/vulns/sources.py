"""Choose vulnerability sources by kind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import assert_never

from imagekit.vulns.export import ExportSource
from imagekit.vulns.interface import SourceKind, VulnError, VulnSource
from imagekit.vulns.online import DEFAULT_URL, ApiSource


def make_source(
    kind: SourceKind, *, paths: Sequence[Path] = (), url: str = DEFAULT_URL
) -> VulnSource:
    """The source of `kind`: an export needs `paths`, the API a base `url`."""
    match kind:
        case SourceKind.EXPORT:
            if not paths:
                raise VulnError("an OSV export needs at least one path (--osv PATH)")
            return ExportSource(paths)
        case SourceKind.API:
            return ApiSource(url)
        case _:
            assert_never(kind)


def choose_sources(
    *, osv: Sequence[Path], online: bool, url: str = DEFAULT_URL
) -> tuple[VulnSource, ...]:
    """The sources a scan was asked for; raises `VulnError` when none was."""
    sources: list[VulnSource] = []
    if osv:
        sources.append(make_source(SourceKind.EXPORT, paths=osv))
    if online:
        sources.append(make_source(SourceKind.API, url=url))
    if not sources:
        raise VulnError(
            "no vulnerability data: give an OSV export with --osv PATH (a directory of *.json "
            "records or osv.dev's all.zip), or query the OSV API with --online"
        )
    return tuple(sources)
