"""Compatibility verdicts: the torch-cu124 project against a fleet (from its plan and from its
Inventory, one evaluation), images with no CUDA, mismatched CUDA, and framework builds without
kernels for a pool's GPU."""

from __future__ import annotations

import pytest
from _gpu_support import (
    GPU_DATA,
    TORCH,
    component,
    dist,
    inventory,
    pool,
    torch_124_inventory,
)

from imagekit.gpu import (
    CompatReport,
    RuntimeKind,
    Verdict,
    compat_of_inventory,
    compat_of_plan,
    knowledge_base,
    load_fleet,
)
from imagekit.gpu.compat import NO_CUDA
from imagekit.inventory.model import CudaSourceKind
from imagekit.plan.prepare import prepare

KB = knowledge_base()
FLEET = load_fleet(GPU_DATA / "fleet.toml", KB)

# NVIDIA's table: CUDA 12.4 GA needs 550.54.14; CUDA 12.x minor version compatibility 525.60.13.
# torch 2.5.1 from PyPI is the cu124 build with kernels for 5.0;6.0;7.0;7.5;8.0;8.6;9.0.
EXPECTED = {
    "h100-550": (Verdict.RUNS, "driver 550.54.15 >= 550.54.14 (CUDA 12.4 GA)"),
    "a100-535": (
        Verdict.MINOR_COMPAT,
        "driver 535.104.05 is older than 550.54.14 for CUDA 12.4, but CUDA 12.x minor version "
        "compatibility needs only 525.60.13",
    ),
    "t4-470": (
        Verdict.REFUSED,
        "pool t4-470: driver 470.82.01 is older than 550.54.14 that CUDA 12.4 needs "
        "(525.60.13 with minor version compatibility)",
    ),
    "t4-470-compat": (
        Verdict.FORWARD_COMPAT,
        "driver 470.82.01 is older than 550.54.14 for CUDA 12.4; forward compatibility through "
        "cuda-compat-12-4 on a data-centre GPU, compute capability 7.5 (T4)",
    ),
    "rtx4090-560": (Verdict.RUNS, "driver 560.35.03 >= 550.54.14 (CUDA 12.4 GA)"),
    "p100-550": (Verdict.RUNS, "driver 550.90.07 >= 550.54.14 (CUDA 12.4 GA)"),
    "b200-570": (
        Verdict.REFUSED,
        "pool b200-570: no kernels for compute capability 10.0 (B200) in torch 2.5.1 (cu124 "
        "build): it builds for 5.0;6.0;7.0;7.5;8.0;8.6;9.0 (cu124, the build PyPI hosts for "
        "torch 2.5)",
    ),
    "ampere-workstations": (
        Verdict.MINOR_COMPAT,
        "driver 550.54 is older than 550.54.14 for CUDA 12.4, but CUDA 12.x minor version "
        "compatibility needs only 525.60.13",
    ),
}


def verdicts(report: CompatReport) -> dict[str, tuple[Verdict, str]]:
    return {v.pool.name: (v.verdict, v.reason) for v in report.pools}


def test_torch_cu124_plan_against_the_fleet() -> None:
    checked = prepare(TORCH)
    report = compat_of_plan(checked.plan, FLEET, packages=checked.packages)
    s = report.summary
    assert (str(s.cuda), str(s.min_driver), str(s.minor_compat_driver)) == (
        "12.4",
        "550.54.14",
        "525.60.13",
    )
    assert s.findings == () and s.notes == ()
    assert verdicts(report) == EXPECTED
    assert report.runnable
    minor = next(v for v in report.pools if v.verdict is Verdict.MINOR_COMPAT)
    assert any("PTX" in limit for limit in minor.limits)
    forward = next(v for v in report.pools if v.verdict is Verdict.FORWARD_COMPAT)
    assert any("cuda-compat-12-4" in limit for limit in forward.limits)


def test_plan_layers_alone_give_the_same_cuda() -> None:
    """Without the lock's packages, the plan's layers and its base still tell CUDA 12.4."""
    report = compat_of_plan(prepare(TORCH).plan, FLEET)
    assert verdicts(report) == EXPECTED
    assert report.summary.runtimes[0].name == "base debian-bookworm-py311-cuda12.4"


def test_the_image_inventory_gets_the_same_verdicts() -> None:
    """The image's torch METADATA pins its CUDA wheels: that, not PyPI's default, tells the
    build; the verdicts are the plan's."""
    report = compat_of_inventory(torch_124_inventory(), FLEET)
    (torch,) = report.summary.frameworks
    how = "cu124 from its Requires-Dist nvidia-cuda-runtime-cu12==12.4.127"
    assert torch.how == how
    expected = dict(EXPECTED)
    verdict, reason = expected["b200-570"]
    expected["b200-570"] = (
        verdict,
        reason.replace("cu124, the build PyPI hosts for torch 2.5", how),
    )
    assert verdicts(report) == expected


def test_an_image_without_cuda_runs_anywhere() -> None:
    image = inventory((dist("numpy", "2.1.3"), dist("scikit-learn", "1.7.2")))
    report = compat_of_inventory(image, FLEET)
    assert report.summary.cuda is None and report.summary.min_driver is None
    assert {v.verdict for v in report.pools} == {Verdict.RUNS}
    assert {v.reason for v in report.pools} == {NO_CUDA}
    assert report.to_dict()["summary"] == "no CUDA in the image: runs anywhere, no driver needed"


def _rules(report: CompatReport) -> list[tuple[str, str]]:
    return [(f.rule, f.severity.value) for f in report.summary.findings]


def test_two_cuda_majors() -> None:
    image = inventory(
        (
            dist("torch", "2.5.1+cu124"),
            dist("nvidia-cuda-runtime-cu11", "11.8.89"),
            dist("nvidia-cuda-runtime-cu12", "12.4.127"),
        )
    )
    report = compat_of_inventory(image)
    assert ("cuda-majors", "error") in _rules(report)
    (majors,) = [f for f in report.summary.findings if f.rule == "cuda-majors"]
    assert majors.message.startswith(
        "two CUDA majors in one image (CUDA 11: nvidia-cuda-runtime-cu11 11.8.89; CUDA 12: "
    )


def test_framework_built_for_a_newer_cuda_than_its_runtime() -> None:
    image = inventory((dist("torch", "2.5.1+cu124"), dist("nvidia-cuda-runtime-cu12", "12.1.105")))
    report = compat_of_inventory(image)
    (finding,) = report.summary.findings
    assert finding.rule == "framework-newer-than-runtime"
    assert finding.message == (
        "torch 2.5.1+cu124 is built for CUDA 12.4, but the CUDA runtime beside it is 12.1 "
        "(nvidia-cuda-runtime-cu12 12.1.105)"
    )
    assert finding.fix.startswith("lock nvidia-cuda-runtime-cu12 12.4 or newer")


def test_cudnn_major_mismatch() -> None:
    image = inventory(
        (
            dist("torch", "2.5.1+cu124"),
            dist("nvidia-cuda-runtime-cu12", "12.4.127"),
            dist("nvidia-cudnn-cu12", "8.9.2.26"),
        )
    )
    (finding,) = compat_of_inventory(image).summary.findings
    assert (finding.rule, finding.message) == (
        "cudnn-major",
        "torch 2.5.1+cu124 needs cuDNN 9, the image has cuDNN 8 (nvidia-cudnn-cu12 8.9.2.26)",
    )


def test_a_toolkit_and_a_wheel_of_different_cuda() -> None:
    toolkit = component(
        CudaSourceKind.TOOLKIT, "cuda", "12.1.1", "12.1", "/usr/local/cuda-12.1/version.json"
    )
    image = inventory((dist("nvidia-cuda-runtime-cu12", "12.4.127"),), (toolkit,))
    report = compat_of_inventory(image)
    assert _rules(report) == [("cuda-duplicate", "warning")]
    assert report.summary.findings[0].message.startswith("cudart of two CUDA versions: cuda 12.1.1")
    assert str(report.summary.cuda) == "12.4"  # the newest runtime sets the driver floor


@pytest.mark.parametrize(
    ("torch", "verdict"),
    [
        ("2.7.1+cu128", Verdict.REFUSED),
        ("2.8.0+cu128", Verdict.RUNS),
        ("2.7.1+cu126", Verdict.RUNS),
    ],
)
def test_volta_and_the_cu128_builds(torch: str, verdict: Verdict) -> None:
    v100 = pool("v100", "570.124.06", "7.0", "V100")
    image = inventory((dist("torch", torch), dist("nvidia-cuda-runtime-cu12", "12.8.90")))
    (result,) = compat_of_inventory(image, [v100]).pools
    assert result.verdict is verdict
    if verdict is Verdict.REFUSED:
        assert result.reason == (
            "pool v100: no kernels for compute capability 7.0 (V100) in torch 2.7.1+cu128: "
            "it builds for 7.5;8.0;8.6;9.0;10.0;12.0+PTX (cu128 from its local version +cu128)"
        )


def test_kernels_only_as_ptx_need_the_full_driver() -> None:
    """torch 2.7 cu128 carries 12.0 as PTX: a newer GPU JIT-compiles it, which minor version
    compatibility cannot do, so only the full driver (or cuda-compat) runs it."""
    image = inventory((dist("torch", "2.7.1+cu128"), dist("nvidia-cuda-runtime-cu12", "12.8.90")))
    future = "13.0"  # a compute capability newer than any in NVIDIA's table today
    pools = [
        pool("new-driver", "570.124.06", future),
        pool("old-driver", "550.54.15", future),
        pool("old-driver-compat", "550.54.15", future, cuda_compat=True),
    ]
    report = compat_of_inventory(image, pools)
    full, minor, forward = report.pools
    assert full.verdict is Verdict.RUNS
    assert any("JIT-compiles its compute_120 PTX" in limit for limit in full.limits)
    assert minor.verdict is Verdict.REFUSED
    assert minor.reason == (
        "pool old-driver: driver 550.54.15 is older than 570.26 that CUDA 12.8 needs; minor "
        "version compatibility (>= 525.60.13) does not help: the kernels for 13.0 exist only as "
        "PTX, which the older driver cannot JIT-compile"
    )
    assert forward.verdict is Verdict.FORWARD_COMPAT


def test_cuda_13_libraries_need_turing_or_newer() -> None:
    image = inventory((dist("nvidia-cuda-runtime", "13.0.48"),))
    (result,) = compat_of_inventory(image, [pool("v100", "580.65.06", "7.0", "V100")]).pools
    assert result.verdict is Verdict.REFUSED
    assert result.reason == (
        "pool v100: CUDA 13 libraries carry no code for compute capability 7.0 (V100); they need "
        "compute capability 7.5 or newer"
    )


def test_consumer_gpu_gets_no_forward_compat() -> None:
    rtx = pool("rtx", "535.104.05", "8.9", "RTX 4090", datacenter=False, cuda_compat=True)
    image = inventory((dist("torch", "2.7.1+cu128"), dist("nvidia-cuda-runtime-cu12", "12.8.90")))
    (result,) = compat_of_inventory(image, [rtx]).pools
    assert result.verdict is Verdict.MINOR_COMPAT  # 535 >= 525.60.13, sm_86 SASS runs on 8.9
    old = pool("rtx-old", "470.82.01", "8.9", "RTX 4090", datacenter=False, cuda_compat=True)
    (refused,) = compat_of_inventory(image, [old]).pools
    assert refused.verdict is Verdict.REFUSED
    assert refused.reason.endswith(
        "; cuda_compat is set, but forward compatibility needs a data-centre GPU"
    )


def test_what_the_knowledge_base_does_not_know() -> None:
    image = inventory((dist("torch", "3.1.0+cu135"), dist("nvidia-cuda-runtime-cu13", "13.5.37")))
    report = compat_of_inventory(image, [pool("h200", "590.48.01", "9.0", "H200")])
    s = report.summary
    assert str(s.cuda) == "13.5" and str(s.min_driver) == "590.44.01"
    assert s.notes == (
        "CUDA 13.5 is newer than the knowledge base (13.1): it needs at least 590.44.01, the "
        "floor of CUDA 13.1",
        "torch 3.1.0+cu135: cu135 from its local version +cu135; its kernel architectures are "
        "unknown",
    )
    (result,) = report.pools
    assert result.verdict is Verdict.RUNS
    assert (
        "torch 3.1.0+cu135: kernel coverage unknown (cu135 from its local version +cu135)"
        in result.limits
    )


def test_cpu_torch_is_not_cuda() -> None:
    report = compat_of_inventory(inventory((dist("torch", "2.5.1+cpu"),)))
    assert report.summary.cuda is None and report.summary.frameworks == ()


def test_report_json_shape() -> None:
    data = compat_of_inventory(torch_124_inventory(), FLEET[:1]).to_dict()
    assert data["cuda"]["compute_capabilities"] == "5.0;6.0;7.0;7.5;8.0;8.6;9.0"
    assert data["pools"][0]["verdict"] == "runs"
    assert data["pools"][0]["pool"]["driver"] == "550.54.15"


def test_runtime_kinds_mirror_the_inventorys() -> None:
    assert {k.value for k in RuntimeKind} == {k.value for k in CudaSourceKind}
