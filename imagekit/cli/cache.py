"""`imagekit cache ...`: what the local caches hold, and pruning them under a size limit."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from imagekit.cache.areas import Area
from imagekit.cli._options import JsonOption
from imagekit.cli._output import UsageError, err, handle_errors, out, out_json, table

if TYPE_CHECKING:
    from pathlib import Path

    from imagekit.cache import Entry, Pruned, Scan

app = typer.Typer(
    help="The local caches: what they hold, and pruning them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

MaxSizeOption = Annotated[
    str | None,
    typer.Option(
        "--max-size",
        metavar="SIZE",
        help="Remove the least recently used entries until the cache holds at most SIZE "
        "(500M, 20G; default: $IMAGEKIT_CACHE_MAX_SIZE).",
        show_default=False,
    ),
]
OlderThanOption = Annotated[
    str | None,
    typer.Option(
        "--older-than",
        metavar="AGE",
        help="Remove entries not used for AGE (12h, 30d, 2w).",
        show_default=False,
    ),
]
AreaOption = Annotated[
    list[Area] | None,
    typer.Option(
        "--area",
        help="Prune this area only (the limit is then its size); repeat for more.",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")
]


def _when(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).isoformat(timespec="seconds")


def _area_row(found: Scan, area: Area) -> dict[str, object]:
    entries = [e for e in found.entries if e.area is area]
    uses = [e.last_used for e in entries]
    return {
        "area": area.value,
        "folder": area.folder,
        "entries": len(entries),
        "bytes": found.total(area),
        "oldest_use": _when(min(uses, default=None)),
        "newest_use": _when(max(uses, default=None)),
    }


@app.command("ls")
@handle_errors
def ls(as_json: JsonOption = False) -> None:
    """Show each cache area: entries, bytes, oldest and newest use; the total and the limit."""
    from imagekit.cache import configured_limit, scan
    from imagekit.cachedir import cache_root

    root = cache_root()
    found, limit = scan(root), configured_limit()
    rows = [_area_row(found, area) for area in Area]
    if as_json:
        out_json({"root": str(root), "areas": rows, "total_bytes": found.total(),
                  "limit_bytes": limit, "foreign": [str(p) for p in found.foreign],
                  "foreign_bytes": found.foreign_size})  # fmt: skip
        return
    _print_ls(root, found, rows, limit)


def _print_ls(root: Path, found: Scan, rows: list[dict[str, object]], limit: int | None) -> None:
    from imagekit.cache import MAX_SIZE_VARIABLE, format_size

    header = ("AREA", "ENTRIES", "SIZE", "OLDEST USE", "NEWEST USE")
    cells = [(r["area"], r["entries"], format_size(int(str(r["bytes"]))),
              r["oldest_use"] or "-", r["newest_use"] or "-") for r in rows]  # fmt: skip
    out(f"cache: {root}")
    for line in table([header, *cells]):
        out(line)
    shown = format_size(limit) if limit is not None else f"none (set ${MAX_SIZE_VARIABLE})"
    out(f"total {format_size(found.total())}, limit {shown}")
    _print_foreign(found.foreign, found.foreign_size)


def _print_foreign(foreign: tuple[Path, ...], size: int) -> None:
    from imagekit.cache import format_size

    if foreign:
        err(f"{len(foreign)} foreign file(s) in the cache ({format_size(size)}), left alone:")
        for path in foreign:
            err(f"  {path}")


@app.command("prune")
@handle_errors
def prune(
    max_size: MaxSizeOption = None,
    older_than: OlderThanOption = None,
    area: AreaOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove the least recently used cache entries until the cache is under its limit.

    An entry a running build uses is kept. Foreign files are left alone."""
    from imagekit.cache import Rule, configured_limit
    from imagekit.cache import prune as run_prune
    from imagekit.cachedir import cache_root

    limit = _size_option(max_size) if max_size is not None else configured_limit()
    age = _age_option(older_than) if older_than is not None else None
    if limit is None and age is None:
        raise UsageError(
            "nothing to prune by: give --max-size (e.g. 20G) or --older-than (e.g. 30d), "
            "or set $IMAGEKIT_CACHE_MAX_SIZE"
        )
    areas = tuple(dict.fromkeys(area)) if area else tuple(Area)
    rule = Rule(max_size=limit, older_than=age, areas=areas, dry_run=dry_run)
    result = run_prune(cache_root(), rule)
    if as_json:
        out_json(result.to_dict())
        return
    _print_pruned(result)


def _size_option(text: str) -> int:
    from imagekit.cache import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise UsageError(f"--max-size: {e}") from e


def _age_option(text: str) -> float:
    from imagekit.cache import parse_age

    try:
        return parse_age(text)
    except ValueError as e:
        raise UsageError(f"--older-than: {e}") from e


def _print_pruned(result: Pruned) -> None:
    from imagekit.cache import format_size

    verb = "would remove" if result.rule.dry_run else "removed"
    for gone in result.removed:
        entry = gone.entry
        out(f"{verb} {entry.area.value} {entry.name} ({format_size(gone.freed)}, {_used(entry)})")
    for entry in result.in_use:
        out(f"kept {entry.area.value} {entry.name}: in use by a running build")
    for entry in result.failed:
        err(f"could not remove {entry.area.value} {entry.name}: check its permissions")
    freed = "would free" if result.rule.dry_run else "freed"
    limit = format_size(result.rule.max_size) if result.rule.max_size is not None else "none"
    before, after = format_size(result.before), format_size(result.after)
    out(f"{verb} {len(result.removed)} entries, {freed} {format_size(result.freed)}; "
        f"cache {before} -> {after} (limit {limit})")  # fmt: skip
    _print_foreign(result.foreign, result.foreign_size)


def _used(entry: Entry) -> str:
    return f"last used {_when(entry.last_used)}"
