"""Faults on the build side, without a full build: hostile wheels refused in one line, and the
work folders and partial layer blobs of killed builds swept while live builds keep theirs.

Wheels are written byte by byte with zipfile; live and killed owners are real processes (a
`python -c` child holding a work folder, killed with SIGKILL where the test needs it dead).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import pytest
from packaging.version import Version

from imagekit.build.oci.wheels import (
    MAX_RECORD_BYTES,
    MAX_SYMLINK_TARGET,
    UnsafeWheelError,
    check_wheel,
    layer_tree,
)
from imagekit.image.compress import write_blob
from imagekit.image.errors import OciError
from imagekit.image.model import Compression
from imagekit.workdir import LOCK_SUFFIX, UNLOCKED_STALE_S, owned_dir, sweep

PYTHON = Version("3.11")
WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
NAME = "demo-1.0-py3-none-any.whl"


def hostile_wheel(folder: Path, record: str | bytes) -> Path:
    """A wheel demo-1.0 whose RECORD is exactly `record`."""
    path = folder / NAME
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("demo/__init__.py", b"")
        archive.writestr(
            "demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
        )
        archive.writestr("demo-1.0.dist-info/WHEEL", WHEEL)
        archive.writestr("demo-1.0.dist-info/RECORD", record)
    return path


def install(wheel: Path) -> None:
    with ExitStack() as stack:
        layer_tree([wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)


def test_a_record_with_a_lone_carriage_return_is_one_error(tmp_path: Path) -> None:
    # Read as installer reads RECORD (str.splitlines), a lone \r ends a row: this one then has
    # one field, which installer refuses; before, csv raised _csv.Error out of check_wheel.
    wheel = hostile_wheel(tmp_path, "demo/__init__.py,,\ndemo/a\rb,,\n")
    with pytest.raises(
        OciError,
        match=r"^demo-1\.0-py3-none-any\.whl: installing it failed \(Row Index 1: expected 3 "
        r"elements, got 1\)$",
    ):
        install(wheel)


def test_a_carriage_return_cannot_hide_an_escaping_path(tmp_path: Path) -> None:
    wheel = hostile_wheel(tmp_path, "demo/__init__.py,,\r../../etc/profile.d/x.sh,,\n")
    with pytest.raises(
        UnsafeWheelError,
        match=r"^demo-1\.0-py3-none-any\.whl: '\.\./\.\./etc/profile\.d/x\.sh' climbs out of the "
        r"install root; the wheel is refused",
    ):
        check_wheel(wheel)


def test_a_record_row_with_five_fields_is_one_error(tmp_path: Path) -> None:
    wheel = hostile_wheel(tmp_path, "demo/__init__.py,,,,\n")
    with pytest.raises(
        OciError, match=r"^demo-1\.0-py3-none-any\.whl: installing it failed \(Row Index 0"
    ):
        install(wheel)


def test_a_huge_record_field_is_refused_naming_the_wheel(tmp_path: Path) -> None:
    # csv refuses a field over 131,072 characters with _csv.Error; the path is echoed cut short.
    wheel = hostile_wheel(tmp_path, "demo/" + "a" * 200_000 + ",,\n")
    with pytest.raises(
        UnsafeWheelError,
        match=r"^demo-1\.0-py3-none-any\.whl: 'demo-1\.0\.dist-info/RECORD' is not a valid CSV "
        r"file \(field larger than field limit",
    ):
        check_wheel(wheel)


def test_a_record_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # 64 MiB of one byte deflates to 64 KiB: a small file that would be large in memory.
    wheel = hostile_wheel(tmp_path, b"\n" * (MAX_RECORD_BYTES + 1))
    with pytest.raises(
        UnsafeWheelError,
        match=rf"^demo-1\.0-py3-none-any\.whl: 'demo-1\.0\.dist-info/RECORD' is "
        rf"{MAX_RECORD_BYTES + 1} bytes, over the limit of {MAX_RECORD_BYTES}; the wheel is "
        r"refused",
    ):
        check_wheel(wheel)


def test_a_huge_symlink_member_is_refused(tmp_path: Path) -> None:
    wheel = hostile_wheel(tmp_path, "demo/__init__.py,,\n")
    with zipfile.ZipFile(wheel, "a") as archive:
        link = zipfile.ZipInfo("demo/link")
        link.external_attr = (0o120777) << 16
        archive.writestr(link, b"a/" * MAX_SYMLINK_TARGET)
    with pytest.raises(
        UnsafeWheelError,
        match=rf"^demo-1\.0-py3-none-any\.whl: 'demo/link' is a symlink of "
        rf"{2 * MAX_SYMLINK_TARGET} bytes; the wheel is refused",
    ):
        check_wheel(wheel)


def test_a_long_hostile_path_is_echoed_escaped_and_cut(tmp_path: Path) -> None:
    wheel = hostile_wheel(tmp_path, "/\x1b[2J" + "a" * 5000 + ",,\n")
    with pytest.raises(UnsafeWheelError) as raised:
        check_wheel(wheel)
    message = str(raised.value)
    assert message.startswith("demo-1.0-py3-none-any.whl: '/\\x1b[2Jaaa")
    assert "… (5005 characters)' is an absolute path; the wheel is refused" in message
    assert len(message) < 500 and "\x1b" not in message


# Work folders: live owners keep theirs, dead owners' folders go.

_HOLD = """
import sys, time
from pathlib import Path
from imagekit.workdir import owned_dir
with owned_dir(Path(sys.argv[1]), "context-") as folder:
    (folder / "part").write_bytes(b"x")
    print(folder, flush=True)
    time.sleep(600)
"""


def _holder(parent: Path) -> tuple[subprocess.Popen[str], Path]:
    """A real process that owns a work folder under `parent` until it is killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(parent)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    return child, Path(child.stdout.readline().strip())


def _stop(child: subprocess.Popen[str]) -> None:
    with child:  # closes its stdout
        child.send_signal(signal.SIGKILL)
        child.wait()


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    child, folder = _holder(tmp_path)
    yield child, folder
    _stop(child)


def test_a_live_builds_folder_is_left_alone(
    tmp_path: Path, holder: tuple[subprocess.Popen[str], Path]
) -> None:
    _, folder = holder
    assert sweep(tmp_path, "context-") == []
    with owned_dir(tmp_path, "context-") as mine:
        assert mine != folder
        assert (folder / "part").read_bytes() == b"x"
    assert (folder / "part").exists() and not mine.exists()


def test_a_killed_builds_folder_is_removed_by_the_next(
    tmp_path: Path, holder: tuple[subprocess.Popen[str], Path]
) -> None:
    child, folder = holder
    _stop(child)
    assert (folder / "part").exists()  # SIGKILL ran no clean-up
    with owned_dir(tmp_path, "context-") as mine:
        assert not folder.exists()
        assert not folder.with_name(folder.name + LOCK_SUFFIX).exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, mine.name + LOCK_SUFFIX]
    assert list(tmp_path.iterdir()) == []


def test_folders_of_old_builds_without_a_lock_go_only_when_stale(tmp_path: Path) -> None:
    old, fresh = tmp_path / ".oci-old1abcd", tmp_path / ".oci-new1abcd"
    for folder in (old, fresh):
        (folder / "blobs").mkdir(parents=True)
    then = time.time() - UNLOCKED_STALE_S - 60
    os.utime(old, (then, then))
    orphan = tmp_path / ".oci-gone1234.lock"  # its folder went, its owner died
    orphan.write_text("1\n")
    assert sweep(tmp_path, ".oci-") == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]


def test_two_processes_sweeping_at_once_keep_each_others_folders(tmp_path: Path) -> None:
    children = [_holder(tmp_path) for _ in range(2)]
    try:
        for _, folder in children:
            assert sweep(tmp_path, "context-") == []
            assert (folder / "part").exists()
    finally:
        for child, _ in children:
            _stop(child)
    assert len(sweep(tmp_path, "context-")) == 2
    assert list(tmp_path.iterdir()) == []


_HOLD_BLOB = """
import sys, time
from pathlib import Path
from imagekit.workdir import owned_file
with owned_file(Path(sys.argv[1]), ".layer-") as (f, path):
    f.write(b"half a layer")
    f.flush()
    print(path, flush=True)
    time.sleep(600)
"""


def _fill(f: IO[bytes]) -> None:
    f.write(b"layer")


def test_a_killed_writers_partial_blob_goes_with_the_next_layer(tmp_path: Path) -> None:
    def writer() -> tuple[subprocess.Popen[str], Path]:
        child = subprocess.Popen(
            [sys.executable, "-c", _HOLD_BLOB, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        return child, Path(child.stdout.readline().strip())

    dead, dead_part = writer()
    _stop(dead)
    live, live_part = writer()
    try:
        blob = write_blob(tmp_path, Compression.GZIP, _fill)
        assert not dead_part.exists()
        assert live_part.read_bytes() == b"half a layer"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [live_part.name, blob.descriptor.digest.removeprefix("sha256:")]
        )
    finally:
        _stop(live)
