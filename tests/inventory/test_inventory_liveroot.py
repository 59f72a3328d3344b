"""`imagekit inventory` / `sbom` of a live root: excludes, the virtual file systems skipped by
default, and files that cannot be read reported as warnings, never a stop.

Root reads every file whatever its mode, so a file that cannot be read is made for real by
running the command as root without the capabilities that let root read past permissions
(`setpriv --bounding-set=-dac_override,-dac_read_search`): a mode 000 file then refuses to open
as it would for any user.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _inventory_helpers import OS_RELEASE, docker_archive, file, layer
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.inventory import read_inventory

runner = CliRunner()
SITE = "usr/lib/python3/dist-packages"
IMAGEKIT = Path(sys.executable).with_name("imagekit")
SETPRIV = shutil.which("setpriv")
NO_DAC = ["--bounding-set=-dac_override,-dac_read_search"]


def dist(root: Path, where: str, name: str, version: str) -> None:
    folder = root / where / f"{name}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@pytest.fixture
def live_root(tmp_path: Path) -> Iterator[Path]:
    """A root with an unreadable file and directory, a FIFO, a socket, and a /proc and /srv."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    dist(root, SITE, "six", "1.16.0")
    dist(root, "proc/1/root/" + SITE, "inproc", "1.0")  # what a live /proc/1/root shows
    dist(root, "srv/data/env", "mounted", "2.0")
    dist(root, "home/user/.cache/env", "cached", "3.0")
    (root / "proc/1/auxv").write_bytes(b"\0" * 64)
    (root / "secret").write_text("unreadable")
    (root / "locked").mkdir()
    (root / "locked/inside").write_text("never listed")
    os.mkfifo(root / "fifo")  # opened, it would block the read for ever
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "socket"))
    for path in (root / "secret", root / "locked", root / "proc/1/auxv"):
        path.chmod(0)
    try:
        yield root
    finally:
        server.close()
        (root / "locked").chmod(0o755)


def names(data: dict[str, Any]) -> list[str]:
    return [d["name"] for d in data["python"]]


def run_without_dac(*args: str) -> subprocess.CompletedProcess[str]:
    assert SETPRIV is not None
    return subprocess.run(
        [SETPRIV, *NO_DAC, str(IMAGEKIT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    SETPRIV is None, reason="needs setpriv (util-linux) to drop root's capabilities"
)
def test_unreadable_files_are_warnings_and_the_sbom_is_written(live_root: Path) -> None:
    result = run_without_dac("sbom", "--reproducible", "--no-default-excludes", str(live_root))
    assert result.returncode == 0, result.stderr
    warnings = [
        "/locked: cannot be listed (Permission denied); skipped",
        "/proc/1/auxv: cannot be read (Permission denied); skipped",
        "/secret: cannot be read (Permission denied); skipped",
    ]
    assert result.stderr.splitlines() == [f"warning: {w}" for w in warnings]
    document = json.loads(result.stdout)
    assert [p["value"] for p in document["metadata"]["properties"]] == warnings
    found = sorted(c["name"] for c in document["components"])
    assert found == ["cached", "debian", "inproc", "mounted", "six"]


def test_proc_sys_dev_and_run_are_skipped_by_default(live_root: Path) -> None:
    found = read_inventory(str(live_root))
    assert [d.name for d in found.python] == ["cached", "mounted", "six"]
    assert not any("/proc" in w for w in found.warnings)


def test_excludes_by_path_and_by_glob(live_root: Path) -> None:
    result = runner.invoke(
        app,
        [
            "inventory",
            "--json",
            "--exclude",
            "/srv/data/",
            "--exclude",
            "home/*/.cache",
            str(live_root),
        ],
    )
    assert result.exit_code == 0, result.output
    assert names(json.loads(result.stdout)) == ["six"]


def test_an_excluded_directory_is_not_entered(live_root: Path) -> None:
    # Root reads the mode 000 directory; excluded, it is not even listed.
    found = read_inventory(str(live_root), exclude=["/locked", "/secret"])
    assert found.warnings == ()
    assert not any(a.path.startswith("/locked") for a in found.artifacts)


def test_excludes_of_an_image_that_is_not_a_root_are_one_line(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "image.tar", [layer(file("etc/os-release", OS_RELEASE))])
    result = runner.invoke(app, ["inventory", "--exclude", "/srv", str(archive)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {archive}: excludes apply to a root file system directory only, and this is a "
        "docker-archive: leave them out\n"
    )


# This machine's data that is not its system (checkouts, caches, test folders, the test
# daemon's images: 22 of its 27 GB) is excluded so the run stays within minutes; /usr, /var,
# /etc and the live /proc, /sys, /dev and /run are what it is about.
DATA_DIRS = ("/opt", "/root", "/tmp", "/work")  # noqa: S108 (skipped, never written to)


@pytest.mark.slow
def test_the_live_root_of_this_machine() -> None:
    """`imagekit inventory /` for real: exit 0 whatever /proc holds or refuses."""
    excludes = [x for d in DATA_DIRS for x in ("--exclude", d)]
    result = subprocess.run(
        [str(IMAGEKIT), "inventory", *excludes, "/"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0].startswith("/ (linux/")
    assert "read from rootfs" in result.stdout.splitlines()[0]
    assert "/proc/" not in result.stderr
