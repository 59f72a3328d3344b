"""`imagekit cache ls` and `imagekit cache prune`, driven in-process on a cache of real files
under $XDG_CACHE_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagekit.cli import app

runner = CliRunner()
OLD = 1_600_000_000
KIB = 1024
WHEEL = "a" * 64
DEB = "b" * 64
BASE = "c" * 64


def _entry(folder: Path, name: str, size: int, used: float) -> None:
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"x" * size)
    os.utime(folder, (used, used))


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache with a wheel (oldest), a .deb and a base layout (newest), and one stray file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("IMAGEKIT_CACHE_MAX_SIZE", raising=False)
    cache = tmp_path / "imagekit"
    _entry(cache / "wheels" / "sha256" / WHEEL, "x-1-py3-none-any.whl", 30 * KIB, OLD)
    _entry(cache / "debs" / "sha256" / DEB, "x.deb", 20 * KIB, OLD + 3600)
    _entry(cache / "bases" / BASE, "index.json", 10 * KIB, OLD + 7200)
    (cache / "mine.txt").write_text("not imagekit's\n")
    return cache


def test_ls_shows_each_area_the_total_and_the_limit(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "1G")
    result = runner.invoke(app, ["cache", "ls"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"cache: {root}"
    assert lines[1].split() == ["AREA", "ENTRIES", "SIZE", "OLDEST", "USE", "NEWEST", "USE"]
    assert lines[2].split() == ["wheels", "1", "30.0K", *["2020-09-13T12:26:40+00:00"] * 2]
    assert lines[-1] == "total 60.0K, limit 1.0G"
    assert result.stderr.splitlines() == [
        "1 foreign file(s) in the cache (15B), left alone:",
        f"  {root / 'mine.txt'}",
    ]


def test_ls_json(root: Path) -> None:
    result = runner.invoke(app, ["cache", "ls", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total_bytes"] == 60 * KIB
    assert data["limit_bytes"] is None
    assert [(a["area"], a["entries"], a["bytes"]) for a in data["areas"]] == [
        ("wheels", 1, 30 * KIB),
        ("debs", 1, 20 * KIB),
        ("bases", 1, 10 * KIB),
        ("layers", 0, 0),
        ("facts", 0, 0),
        ("scans", 0, 0),
    ]
    assert data["foreign"] == [str(root / "mine.txt")]


def test_prune_says_what_went_and_what_it_freed(root: Path) -> None:
    result = runner.invoke(app, ["cache", "prune", "--max-size", "35K"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"removed wheels {WHEEL} (30.0K, last used 2020-09-13T12:26:40+00:00)",
        "removed 1 entries, freed 30.0K; cache 60.0K -> 30.0K (limit 35.0K)",
    ]
    assert not (root / "wheels" / "sha256" / WHEEL).exists()
    assert (root / "mine.txt").exists()


def test_prune_takes_its_limit_from_the_environment(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "15K")
    result = runner.invoke(app, ["cache", "prune", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(e["area"], e["name"]) for e in data["removed"]] == [("wheels", WHEEL), ("debs", DEB)]
    assert (data["dry_run"], data["bytes_freed"], data["bytes_after"]) == (True, 50 * KIB, 10 * KIB)
    assert (root / "wheels" / "sha256" / WHEEL).exists()


def test_prune_one_area_by_age(root: Path) -> None:
    result = runner.invoke(app, ["cache", "prune", "--older-than", "30d", "--area", "debs"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"removed debs {DEB} (20.0K")
    assert (root / "wheels" / "sha256" / WHEEL).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--max-size", "abc"],
            "error: --max-size: 'abc' is not a size; give bytes with an optional unit K, M, G "
            "or T (powers of 1024), e.g. 500M or 20G",
        ),
        (
            ["--older-than", "soon"],
            "error: --older-than: 'soon' is not an age; give a number with a unit m, h, d or w "
            "(minutes, hours, days, weeks), e.g. 12h or 30d",
        ),
        (
            [],
            "error: nothing to prune by: give --max-size (e.g. 20G) or --older-than (e.g. 30d), "
            "or set $IMAGEKIT_CACHE_MAX_SIZE",
        ),
    ],
)
def test_bad_options_are_one_line_usage_errors(root: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["cache", "prune", *args])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert (root / "wheels" / "sha256" / WHEEL).exists()


def test_a_limit_variable_that_is_no_size_is_named(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "plenty")
    result = runner.invoke(app, ["cache", "ls"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: $IMAGEKIT_CACHE_MAX_SIZE: 'plenty' is not a size;")
