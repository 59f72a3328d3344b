"""A new user's first hour: skips named at the end of a run, the demo's daemon found by `make`,
and a daemon stop that is quick and leaves no bridge, NAT chain or mount behind."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"

SKIPPING = """
import pytest

def test_needs_daemon():
    pytest.skip("no Docker daemon (DOCKER_HOST unset/unreachable); CI starts one")

def test_needs_daemon_too():
    pytest.skip("no Docker daemon (DOCKER_HOST unset/unreachable); CI starts one")

@pytest.mark.skipif(True, reason="buildah or skopeo not installed (apt-get install buildah skopeo)")
def test_needs_buildah():
    pass

def test_runs():
    pass
"""


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "_skip_summary", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_skips_are_counted_by_reason_at_the_very_end(tmp_path: Path) -> None:
    (tmp_path / "test_parts.py").write_text(SKIPPING, encoding="utf-8")
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.rstrip().splitlines()
    tail = lines[-6:]
    assert tail[0].startswith("=") and "skipped tests" in tail[0]
    # The block comes after pytest's own "1 passed, 3 skipped" line: it ends the output.
    assert "1 passed, 3 skipped" in lines[-7]
    assert tail[1].startswith("3 tests skipped: the part each one needs is missing here")
    assert tail[2] == "     2  no Docker daemon (DOCKER_HOST unset/unreachable); CI starts one"
    assert tail[3].strip().startswith('fix: eval "$(make -s daemon-env)"')
    assert tail[4] == "     1  buildah or skopeo not installed (apt-get install buildah skopeo)"
    assert tail[5] == "        fix: sudo make test-deps (installs buildah and skopeo)"


def test_no_block_when_nothing_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "test_fine.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 0
    assert "skipped tests" not in done.stdout


def _make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_finds_the_demo_daemon(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "MAKEFLAGS")}
    env.pop("IMAGEKIT_TEST_REGISTRY", None)
    dirs = [f"DOCKERD_DIR={tmp_path}", f"REGISTRY_DIR={tmp_path / 'registry'}"]
    missing = _make("daemon-env", *dirs, env=env)
    assert missing.returncode != 0
    assert f"no daemon in {tmp_path}; run make demo" in missing.stderr
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "docker.sock"))
        found = _make("daemon-env", *dirs, env=env)
        assert found.returncode == 0, found.stderr
        assert found.stdout == f"export DOCKER_HOST=unix://{tmp_path}/docker.sock\n"
        # `make test` exports the same to pytest when the caller's environment names none.
        shown = _make("-p", "-n", "daemon-env", *dirs, env=env)
        assert f"DOCKER_HOST := unix://{tmp_path}/docker.sock" in shown.stdout


def _root_with_dockerd() -> str | None:
    if os.geteuid() != 0:
        return "needs root (it starts a dockerd)"
    for tool in ("dockerd", "unshare", "iptables", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.skipif(_root_with_dockerd() is not None, reason=str(_root_with_dockerd()))
def test_daemon_stop_is_quick_and_cleans_up() -> None:
    """In a network namespace of its own, so the bridge and chains it checks are its daemon's.
    The state folder is short: containerd's socket path must fit a sockaddr_un (108 bytes)."""
    state = Path(tempfile.mkdtemp(prefix="ikd-", dir="/tmp")) / "d"
    script = f"""
set -euo pipefail
ip link set lo up
eval "$(IMAGEKIT_DOCKERD_IPTABLES=true {ROOT}/.ci/dockerd-start.sh {state})"
ip link show docker0 >/dev/null
iptables -t nat -S | grep -q -- '-N DOCKER'
start=$(date +%s%N)
{ROOT}/.ci/dockerd-stop.sh {state}
echo "took_ms $(( ($(date +%s%N) - start) / 1000000 ))"
echo "links: $(ip -br link | awk '{{ print $1 }}' | tr '\\n' ' ')"
echo "nat: $(iptables -t nat -S | grep -c DOCKER || true)"
echo "filter: $(iptables -S | grep -c DOCKER || true)"
"""
    began = time.monotonic()
    try:
        done = subprocess.run(
            ["unshare", "--net", "--fork", "bash", "-c", script],
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
    finally:  # whatever failed, leave no mount or folder behind (outside the namespace)
        subprocess.run([ROOT / ".ci" / "dockerd-stop.sh", state], capture_output=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    took_ms = int(done.stdout.split("took_ms ")[1].split()[0])
    assert took_ms < 10_000, done.stderr
    assert "links: lo \n" in done.stdout
    assert "nat: 0\n" in done.stdout and "filter: 0\n" in done.stdout
    assert "dockerd-stop: removing the docker0 bridge" in done.stderr
    assert "dockerd-stop: sending TERM to dockerd" in done.stderr
    assert not state.exists()
    state.parent.rmdir()
    assert str(state) not in Path("/proc/self/mounts").read_text(encoding="utf-8")
    assert time.monotonic() - began < 120
