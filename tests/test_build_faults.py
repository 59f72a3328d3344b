"""Daemonless builds (`--backend oci`) under faults: the user's wheel cache is left as it was, a
build killed with SIGKILL leaves work that the next build removes, Ctrl-C cleans up and exits
130, and a full disk (a real tmpfs) is one line with nothing half-written.

The project is the smallest real one: one app file and one wheel (six 1.17.0 from the index).
Killed and interrupted builds are real `imagekit build` processes, signalled when they print
that they are writing the app layer.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagekit.build.backends import BackendKind
from imagekit.build.oci import OciBase, default_cache_root, ensure_base
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.cli import app
from imagekit.plan.catalog import BaseImage

pytestmark = [pytest.mark.network, pytest.mark.slow]

SIX = "six==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"
SPEC = """\
name = "tiny"
version = "1.0.0"
description = "One small wheel."
base = "debian-bookworm-py311"
lockfile = "requirements.lock"
platform = "linux/amd64"
entrypoint = ["python", "/app/src/main.py"]
cmd = []
workdir = "/app"
ports = []

[app]
include = ["src/**"]
"""
TAG = "imagekit-test-faults/tiny:1"
# What a finished build leaves in <project>/.imagekit; anything else is a leftover.
OUTPUTS = ["build.json", "oci", "plan.json", "provenance.json", "sbom.cdx.json"]
WRITING = "layer app: writing"  # written by every build: its layer is never cached


def tiny_project(folder: Path) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "imagekit.toml").write_text(SPEC, encoding="utf-8")
    (folder / "requirements.lock").write_text(SIX + "\n", encoding="utf-8")
    (folder / "src" / "main.py").write_text("import six\nprint(six.__version__)\n")
    return folder


@pytest.fixture(scope="module")
def oci_base(debian_catalog_base: BaseImage) -> OciBase:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    return ensure_base(debian_catalog_base, cache_root=default_cache_root(), log=print)


def build(project: Path, cache: Path | None = None) -> BuildOutcome:
    lines: list[str] = []
    return build_project(
        project, progress=lines.append, backend=BackendKind.OCI, cache_dir=cache, tag=TAG
    )


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Mode, mtime (ns) and sha256 of every file under `folder`, less imagekit's own dot-named
    bookkeeping (locks, the stamps that say a wheel was verified)."""
    out: dict[str, tuple[int, int, str]] = {}
    files = (p for p in folder.rglob("*") if p.is_file())
    for path in sorted(p for p in files if not p.relative_to(folder).as_posix().startswith(".")
                       and not p.name.startswith(".")):  # fmt: skip
        st = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        out[path.relative_to(folder).as_posix()] = (st.st_mode, st.st_mtime_ns, digest)
    return out


def test_a_build_leaves_the_wheel_cache_as_it_was(oci_base: OciBase, tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    first = build(tiny_project(tmp_path / "a"), cache)
    wheels = sorted(cache.glob("sha256/*/*.whl"))
    assert "six-1.17.0-py2.py3-none-any.whl" in [w.name for w in wheels]
    for wheel in wheels:  # as an older imagekit or a copied cache leaves them
        wheel.chmod(0o600)
        os.utime(wheel, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    before = snapshot(cache)
    second = build(tiny_project(tmp_path / "b"), cache)
    assert snapshot(cache) == before
    assert second.result.image_id == first.result.image_id
    # Hashed again (their mtime moved) and stamped, so a third build need not hash them.
    assert all(w.with_name(f".{w.name}.verified").is_file() for w in wheels)


def _start(project: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """`imagekit build --backend oci` of `project`, running; returned once it writes a layer."""
    command = [sys.executable, "-c", "from imagekit.cli import main; main()", "build",
               "--backend", "oci", "--tag", TAG, str(project)]  # fmt: skip
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    lines: list[str] = []
    for line in child.stderr:
        lines.append(line.rstrip("\n"))
        if lines[-1] == WRITING:
            return child, lines
    with child:
        child.wait()
    raise AssertionError("the build ended before writing its app layer:\n" + "\n".join(lines))


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_killed_build_leaves_work_that_the_next_build_removes(
    oci_base: OciBase, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "tiny")
    child, _ = _start(project)
    with child:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = _names(project / ".imagekit")
    prefixes = sorted({n.split("-")[0] for n in left if not n.endswith(".lock")})
    assert prefixes == [".oci", ".work", "context"], left
    build(project)
    assert _names(project / ".imagekit") == OUTPUTS


def test_ctrl_c_removes_the_work_and_exits_130(oci_base: OciBase, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny")
    child, _ = _start(project)
    with child:
        child.send_signal(signal.SIGINT)
        _, rest = child.communicate(timeout=120)
    assert child.returncode == 130
    assert rest.strip().splitlines() == ["interrupted"]
    assert _names(project / ".imagekit") == []


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs: far too small for the 73 MB image."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def _cli_build(project: Path, *options: str) -> tuple[int, list[str]]:
    """The exit code and the lines that are not progress (a progress line names no error)."""
    result = CliRunner().invoke(app, ["build", "--backend", "oci", "--tag", TAG, *options,
                                      str(project)])  # fmt: skip
    assert "Traceback" not in result.output
    return result.exit_code, [x for x in result.output.splitlines() if x.startswith("error")]


def test_a_full_disk_under_the_layout_is_one_line(
    oci_base: OciBase, tmp_path: Path, full_disk: Path
) -> None:
    project = tiny_project(tmp_path / "tiny")
    code, lines = _cli_build(project, "--oci-dir", str(full_disk / "oci"))
    assert code == 3
    assert lines == [
        f"error: {full_disk}/oci: cannot write the OCI layout: No space left on device; nothing "
        "was left half-written (fix: free space on that disk, or write to another one)"
    ]
    assert _names(full_disk) == []
    assert _names(project / ".imagekit") == []


def test_a_full_disk_under_the_archive_is_one_line(
    oci_base: OciBase, tmp_path: Path, full_disk: Path
) -> None:
    project = tiny_project(tmp_path / "tiny")
    code, lines = _cli_build(project, "--archive", str(full_disk / "image.tar"))
    assert code == 3
    assert lines == [
        f"error: {full_disk}/image.tar: cannot write the docker-archive: No space left on "
        "device; nothing was left half-written (fix: free space on that disk, or write to "
        "another one)"
    ]
    assert _names(full_disk) == []
