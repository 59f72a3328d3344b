"""`imagekit probe` and `imagekit compat`, driven in-process; images are root file systems read
by the real Inventory reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _gpu_support import GPU_DATA, dist, fake, torch_124_inventory, write_rootfs
from typer.testing import CliRunner

from imagekit.cli import app

runner = CliRunner()


def test_probe_without_a_driver_exits_4() -> None:
    """Real and unfaked: this machine (and CI) has no NVIDIA driver."""
    result = runner.invoke(app, ["probe"])
    if result.exit_code == 0:
        pytest.skip("this machine has an NVIDIA driver; see the gpu-marked tests")
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("no NVIDIA driver on this machine: ")
    assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["probe", "--json"])
    assert as_json.exit_code == 4
    assert json.loads(as_json.stdout)["error"] == "no-driver"


def test_probe_reports_each_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "a100-mig-550")
    result = runner.invoke(app, ["probe"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "driver 550.54.15 (supports CUDA 12.4), 1 GPU(s)"
    assert lines[1].startswith("  GPU 0: NVIDIA A100 80GB PCIe  GPU-7d6c5b4a-")
    assert lines[1].endswith("80.0 GiB  compute capability 8.0  MIG enabled  persistence on")
    data = json.loads(runner.invoke(app, ["probe", "--json"]).stdout)
    assert data["gpus"][0]["compute_capability"] == "8.0"


@pytest.fixture
def torch_image(tmp_path: Path) -> Path:
    return write_rootfs(tmp_path / "rootfs", torch_124_inventory().python)


def test_compat_against_a_fleet(torch_image: Path) -> None:
    result = runner.invoke(
        app, ["compat", str(torch_image), "--fleet", str(GPU_DATA / "fleet.toml")]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "CUDA 12.4\n  needs driver >= 550.54.14 (CUDA 12.4 GA)\n" in out
    assert "  or >= 525.60.13 with minor version compatibility\n" in out
    assert (
        "  framework: torch 2.5.1 (cu124 build), CUDA 12.4, kernels for 5.0;6.0;7.0;7.5;8.0;8.6;9.0"
        in out
    )
    assert (
        "pool a100-535 (driver 535.104.05, compute capability 8.0 (A100)): runs-with-minor-compat"
        in out
    )
    assert "pool b200-570 (driver 570.124.06, compute capability 10.0 (B200)): refused" in out
    data = json.loads(
        runner.invoke(
            app, ["compat", str(torch_image), "--fleet", str(GPU_DATA / "fleet.toml"), "--json"]
        ).stdout
    )
    assert {p["pool"]["name"]: p["verdict"] for p in data["pools"]} == {
        "h100-550": "runs",
        "a100-535": "runs-with-minor-compat",
        "t4-470": "refused",
        "t4-470-compat": "runs-with-forward-compat",
        "rtx4090-560": "runs",
        "p100-550": "runs",
        "b200-570": "refused",
        "ampere-workstations": "runs-with-minor-compat",
    }


def test_compat_refused_everywhere_exits_1(torch_image: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "old.fleet.toml"
    fleet.write_text('[[pools]]\nname = "t4"\ndriver = "470.82.01"\ngpu = "T4"\n', encoding="utf-8")
    result = runner.invoke(app, ["compat", str(torch_image), "--fleet", str(fleet)])
    assert result.exit_code == 1
    assert "pool t4 (driver 470.82.01, compute capability 7.5 (T4)): refused" in result.stdout


def test_compat_of_an_image_without_cuda(tmp_path: Path) -> None:
    image = write_rootfs(tmp_path / "rootfs", (dist("numpy", "2.1.3"),))
    result = runner.invoke(app, ["compat", str(image)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{image}: no CUDA in the image: runs anywhere, no driver needed\n"


def test_compat_flags_mismatched_cuda(tmp_path: Path) -> None:
    image = write_rootfs(
        tmp_path / "rootfs",
        (dist("torch", "2.5.1+cu124"), dist("nvidia-cuda-runtime-cu12", "12.1.105")),
    )
    result = runner.invoke(app, ["compat", str(image)])
    assert result.exit_code == 1
    assert "error: torch 2.5.1+cu124 is built for CUDA 12.4, but the CUDA runtime" in result.stderr
    assert "[framework-newer-than-runtime]" in result.stderr


def test_compat_with_a_malformed_fleet(torch_image: Path) -> None:
    fleet = GPU_DATA / "malformed.fleet.toml"
    result = runner.invoke(app, ["compat", str(torch_image), "--fleet", str(fleet)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {fleet}:3: malformed TOML")


def test_compat_on_this_host_without_a_driver(torch_image: Path) -> None:
    result = runner.invoke(app, ["compat", str(torch_image), "--host"])
    if result.exit_code == 0:
        pytest.skip("this machine has an NVIDIA driver")
    assert result.exit_code == 4
    assert "no NVIDIA driver on this machine" in result.stderr


def test_compat_on_a_faked_host(torch_image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, "t4-470")
    result = runner.invoke(app, ["compat", str(torch_image), "--host"])
    assert result.exit_code == 1
    assert (
        "pool host GPU 0 (driver 470.82.01, compute capability 7.5 (Tesla T4)): refused"
        in result.stdout
    )


def test_host_and_fleet_together(torch_image: Path) -> None:
    result = runner.invoke(
        app, ["compat", str(torch_image), "--host", "--fleet", str(GPU_DATA / "fleet.toml")]
    )
    assert result.exit_code == 2
    assert "choose one of --host and --fleet" in result.output
