"""The GPU examples (examples/torch-cuda13, examples/torch-cu124) pass their checks and plan onto
their CUDA bases: the NVIDIA wheels the base carries at the lock's version come from the base's
layer, the rest go into the image's CUDA layer, and the fleet files get the verdicts NVIDIA's
driver tables give. A lock that re-pins a base's NVIDIA wheel at another version is a finding
before any build, naming both versions (a real pair: torch 2.5.1's cuBLAS on the CUDA 12.8 base).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _projects import REPO, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.errors import FindingsError
from imagekit.gpu import Verdict
from imagekit.plan.model import LayerKind
from imagekit.plan.prepare import prepare

CUDA13 = REPO / "examples" / "torch-cuda13"
CU124 = REPO / "examples" / "torch-cu124"
runner = CliRunner()


@pytest.mark.parametrize("project", [CUDA13, CU124], ids=["torch-cuda13", "torch-cu124"])
def test_gpu_example_passes_check(project: Path) -> None:
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 0, result.output
    assert "ok (" in result.output


@pytest.mark.parametrize(
    ("project", "carried"),
    [
        (
            CUDA13,
            {"nvidia-cublas", "nvidia-cuda-nvrtc", "nvidia-cuda-runtime", "nvidia-cudnn-cu13"},
        ),
        (
            CU124,
            {
                "nvidia-cublas-cu12",
                "nvidia-cuda-nvrtc-cu12",
                "nvidia-cuda-runtime-cu12",
                "nvidia-cudnn-cu12",
            },
        ),
    ],
    ids=["torch-cuda13", "torch-cu124"],
)
def test_nvidia_wheels_the_base_carries_are_not_installed_again(
    project: Path, carried: set[str]
) -> None:
    plan = prepare(project).plan
    assert set(plan.from_base) == carried
    layered = {p.name for layer in plan.layers for p in layer.packages}
    assert not layered & carried
    kinds = [layer.kind for layer in plan.layers]
    assert kinds == [
        LayerKind.CUDA,
        LayerKind.FRAMEWORK,
        LayerKind.PYTHON,
        LayerKind.ARTIFACTS,
        LayerKind.APP,
    ]
    cuda = {p.name for p in plan.layers[0].packages}
    assert all(name.startswith("nvidia-") for name in cuda)
    assert any(name.startswith("nvidia-nccl-") for name in cuda)
    assert {p.name for p in plan.layers[1].packages} >= {"torch", "triton"}


@pytest.mark.parametrize(
    ("project", "cuda", "driver", "verdicts"),
    [
        (
            CUDA13,
            "13.0",
            "580.65.06",
            {"h100-580": Verdict.RUNS, "l4-580": Verdict.RUNS, "a100-570": Verdict.REFUSED},
        ),
        (
            CU124,
            "12.4",
            "550.54.14",
            {
                "a100-550": Verdict.RUNS,
                "t4-535": Verdict.MINOR_COMPAT,
                "v100-470": Verdict.REFUSED,
            },
        ),
    ],
    ids=["torch-cuda13", "torch-cu124"],
)
def test_fleet_verdicts_follow_the_driver_tables(
    project: Path, cuda: str, driver: str, verdicts: dict[str, Verdict]
) -> None:
    prepared = prepare(project)
    assert prepared.plan.cuda is not None
    assert (prepared.plan.cuda.version, prepared.plan.cuda.min_driver) == (cuda, driver)
    assert prepared.compat is not None
    assert {p.pool.name: p.verdict for p in prepared.compat.pools} == verdicts


def test_a_base_wheel_at_another_version_is_a_finding_naming_both(tmp_path: Path) -> None:
    project = copy_project(CU124, tmp_path / "torch-cu124")
    edit_spec(project, '"debian-bookworm-py311-cuda12.4"', '"debian-bookworm-py311-cuda12.8"')
    with pytest.raises(FindingsError) as caught:
        prepare(project)
    messages = {f.message for f in caught.value.findings if f.rule == "base-conflict"}
    assert messages == {
        "nvidia-cublas-cu12 12.4.5.8 conflicts with 12.8.4.1 carried by base "
        "debian-bookworm-py311-cuda12.8",
        "nvidia-cuda-nvrtc-cu12 12.4.127 conflicts with 12.8.93 carried by base "
        "debian-bookworm-py311-cuda12.8",
        "nvidia-cuda-runtime-cu12 12.4.127 conflicts with 12.8.90 carried by base "
        "debian-bookworm-py311-cuda12.8",
        "nvidia-cudnn-cu12 9.1.0.70 conflicts with 9.10.2.21 carried by base "
        "debian-bookworm-py311-cuda12.8",
    }
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 1
    assert "12.4.5.8 conflicts with 12.8.4.1" in result.output
