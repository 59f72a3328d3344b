"""Today's GPU stack: torch 2.13.0 from PyPI with the CUDA 13 wheels it installs (the cuda-toolkit
metapackage and unsuffixed nvidia-* wheels), read from root file systems assembled from the real
METADATA of those wheels (tests/data/gpu/metadata), against pools just inside and just outside
what each build supports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _gpu_support import (
    GPU_DATA,
    TORCH_2_13_CUDA,
    dist,
    fake,
    inventory,
    metadata_rootfs,
    pool,
)
from packaging.utils import canonicalize_name
from packaging.version import Version
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.cuda import cuda_of_packages
from imagekit.errors import Location
from imagekit.gpu import (
    CompatReport,
    ComputeCapability,
    Pool,
    Verdict,
    compat_of_inventory,
    host_pools,
    knowledge_base,
    load_fleet,
)
from imagekit.gpu.facts import wheel_runtime
from imagekit.gpu.kb_model import TorchBuild
from imagekit.gpu.probe import probe
from imagekit.gpu.versions import format_arch_list
from imagekit.inventory import read_inventory
from imagekit.project.lockfile import LockedPackage

KB = knowledge_base()
FLEET = GPU_DATA / "cuda13.fleet.toml"
runner = CliRunner()

TORCH_213_ARCHS = "7.5;8.0;8.6;9.0;10.0;12.0"
TORCH_213_HOW = "cu130 from its Requires-Dist cuda-toolkit==13.0.3"


def torch_213(tmp_path: Path, nvjitlink: str) -> CompatReport:
    root = metadata_rootfs(tmp_path / "rootfs", *TORCH_2_13_CUDA, f"nvidia-nvjitlink-{nvjitlink}")
    return compat_of_inventory(read_inventory(str(root)), load_fleet(FLEET, KB))


def verdicts(report: CompatReport) -> dict[str, Verdict]:
    return {v.pool.name: v.verdict for v in report.pools}


EXPECTED_213 = {
    "h100-550": Verdict.REFUSED,
    "h100-580": Verdict.RUNS,
    "v100-580": Verdict.REFUSED,
    "p100-580": Verdict.REFUSED,
    "t4-580": Verdict.RUNS,
    "b200-570": Verdict.REFUSED,
}


def test_torch_2_13_with_its_cuda_13_wheels(tmp_path: Path) -> None:
    report = torch_213(tmp_path, "13.0.88")
    s = report.summary
    assert (str(s.cuda), str(s.min_driver), s.min_driver_release) == (
        "13.0",
        "580.65.06",
        "CUDA 13.0 GA",
    )
    assert s.findings == () and s.notes == ()
    (torch,) = s.frameworks
    assert (torch.label, torch.how) == ("torch 2.13.0 (cu130 build)", TORCH_213_HOW)
    assert torch.archs is not None and format_arch_list(torch.archs) == TORCH_213_ARCHS
    assert verdicts(report) == EXPECTED_213
    reasons = {v.pool.name: v.reason for v in report.pools}
    assert reasons["h100-550"] == (
        "pool h100-550: driver 550.54.15 is older than 580.65.06 that CUDA 13.0 needs "
        "(580 with minor version compatibility)"
    )
    assert reasons["h100-580"] == "driver 580.65.06 >= 580.65.06 (CUDA 13.0 GA)"
    for name, cc in (("v100-580", "7.0 (V100)"), ("p100-580", "6.0 (P100)")):
        assert reasons[name] == (
            f"pool {name}: no kernels for compute capability {cc} in torch 2.13.0 (cu130 build): "
            f"it builds for {TORCH_213_ARCHS} ({TORCH_213_HOW})"
        )
    assert reasons["b200-570"].startswith(
        "pool b200-570: driver 570.124.06 is older than 580.65.06 that CUDA 13.0 needs"
    )
    assert report.runnable


def test_the_unsuffixed_wheels_keep_their_own_versions(tmp_path: Path) -> None:
    """nvidia-cufft 12.0.0.61 is CUDA 13.0's cuFFT, not a CUDA 12 library: one CUDA major."""
    report = torch_213(tmp_path, "13.0.88")
    by_name = {r.name: (r.version, str(r.cuda)) for r in report.summary.runtimes}
    assert by_name["nvidia-cufft"] == ("12.0.0.61", "13.0")
    assert by_name["nvidia-curand"] == ("10.4.0.35", "13.0")
    assert by_name["nvidia-cusolver"] == ("12.0.4.66", "13.0")
    assert by_name["nvidia-cusparse"] == ("12.6.3.3", "13.0")
    assert by_name["nvidia-cufile"] == ("1.15.1.6", "13.0")
    assert by_name["nvidia-cublas"] == ("13.1.1.3", "13.0")  # CUDA 13.0's cuBLAS is 13.1
    assert by_name["cuda-toolkit"] == ("13.0.3.0", "13.0")
    assert by_name["nvidia-cudnn-cu13"] == ("9.20.0.48", "13")
    assert {r.cuda.major for r in report.summary.runtimes} == {13}


def test_a_newer_nvjitlink_is_a_limit_not_a_new_floor(tmp_path: Path) -> None:
    """cuda-toolkit 13.0.3 pins nvidia-nvjitlink>=13.0.88,<14: pip installs 13.5.37 today."""
    report = torch_213(tmp_path, "13.5.37")
    s = report.summary
    assert (str(s.cuda), str(s.min_driver)) == ("13.0", "580.65.06")
    assert s.findings == ()
    note = (
        "nvidia-nvjitlink 13.5.37 is from CUDA 13.5, newer than the CUDA 13.0 runtime: minor "
        "version compatibility runs it without the features CUDA 13.5 added, and the floor stays "
        "the runtime's; CUDA 13.5 itself needs at least 590.44.01"
    )
    assert s.notes == (note,)
    assert verdicts(report) == EXPECTED_213
    (h100,) = [v for v in report.pools if v.pool.name == "h100-580"]
    assert note in h100.limits


def test_compat_cli_exits_0_when_some_pool_runs_it(tmp_path: Path) -> None:
    root = metadata_rootfs(tmp_path / "rootfs", *TORCH_2_13_CUDA, "nvidia-nvjitlink-13.5.37")
    result = runner.invoke(app, ["compat", str(root), "--fleet", str(FLEET), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cuda"]["cuda"] == "13.0" and data["cuda"]["min_driver"] == "580.65.06"
    assert data["cuda"]["compute_capabilities"] == TORCH_213_ARCHS
    assert {p["pool"]["name"]: p["verdict"] for p in data["pools"]} == {
        k: v.value for k, v in EXPECTED_213.items()
    }


def test_torch_2_11_cu128_dropped_volta_and_pascal() -> None:
    """The +cu128 wheels live on download.pytorch.org (out of reach here): the dists carry the
    version their METADATA has, 2.11.0+cu128, beside the CUDA 12.8 runtime it requires."""
    image = inventory((dist("torch", "2.11.0+cu128"), dist("nvidia-cuda-runtime-cu12", "12.8.90")))
    pools = [
        pool("v100", "580.65.06", "7.0", "V100"),
        pool("p100", "580.65.06", "6.0", "P100"),
        pool("t4", "580.65.06", "7.5", "T4"),
    ]
    v100, p100, t4 = compat_of_inventory(image, pools).pools
    for result, cc in ((v100, "7.0 (V100)"), (p100, "6.0 (P100)")):
        assert result.verdict is Verdict.REFUSED
        assert result.reason == (
            f"pool {result.pool.name}: no kernels for compute capability {cc} in "
            "torch 2.11.0+cu128: it builds for 7.5;8.0;8.6;9.0;10.0;12.0 (cu128 from its local "
            "version +cu128)"
        )
    assert t4.verdict is Verdict.RUNS
    kept = compat_of_inventory(
        inventory((dist("torch", "2.10.0+cu128"), dist("nvidia-cuda-runtime-cu12", "12.8.90"))),
        pools[:1],
    )
    assert kept.pools[0].verdict is Verdict.RUNS  # 2.10 still built sm_70 into cu128


def test_torch_2_9_cu130_with_unsuffixed_wheels_is_one_major() -> None:
    image = inventory(
        (
            dist("torch", "2.9.1+cu130"),
            dist("nvidia-cuda-runtime", "13.0.96"),
            dist("nvidia-cufft", "12.0.0.61"),
            dist("nvidia-curand", "10.4.0.35"),
            dist("nvidia-cusparse", "12.6.3.3"),
        )
    )
    s = compat_of_inventory(image).summary
    assert str(s.cuda) == "13.0" and s.findings == ()


def test_two_majors_only_from_two_runtimes() -> None:
    two = inventory(
        (dist("nvidia-cuda-runtime-cu12", "12.8.90"), dist("nvidia-cuda-runtime", "13.0.96"))
    )
    (finding,) = [f for f in compat_of_inventory(two).summary.findings if f.rule == "cuda-majors"]
    assert (finding.rule, finding.message) == (
        "cuda-majors",
        "two CUDA majors in one image (CUDA 12: nvidia-cuda-runtime-cu12 12.8.90; CUDA 13: "
        "nvidia-cuda-runtime 13.0.96)",
    )
    stray = inventory(
        (dist("nvidia-cuda-runtime", "13.0.96"), dist("nvidia-cudnn-cu12", "9.10.2.21"))
    )
    s = compat_of_inventory(stray).summary
    assert str(s.cuda) == "13.0"
    (warning,) = s.findings
    assert (warning.rule, warning.severity.value, warning.message) == (
        "cuda-component-major",
        "warning",
        "nvidia-cudnn-cu12 9.10.2.21 is a CUDA 12 library beside the CUDA 13 runtime: it will "
        "not load against it",
    )


def test_a_framework_built_for_another_major_than_its_runtime() -> None:
    image = inventory((dist("torch", "2.9.1+cu130"), dist("nvidia-cuda-runtime-cu12", "12.8.90")))
    (finding,) = compat_of_inventory(image).summary.findings
    assert (finding.rule, finding.message) == (
        "framework-runtime-major",
        "torch 2.9.1+cu130 is built for CUDA 13.0, but the CUDA runtime beside it is "
        "nvidia-cuda-runtime-cu12 12.8.90 (CUDA 12.8)",
    )


def test_a_component_no_toolkit_release_pins_is_not_counted() -> None:
    assert wheel_runtime("nvidia-cufft", "99.0.0.1", "lock", KB) is None
    runtime = wheel_runtime("nvidia-cufft", "12.9.0.1", "lock", KB)  # a cuFFT 12 of CUDA 13
    assert runtime is not None and str(runtime.cuda) == "13"


def test_tensorflow_and_jax_get_framework_facts(tmp_path: Path) -> None:
    root = metadata_rootfs(
        tmp_path / "rootfs",
        "tensorflow-2.21.0",
        "jax-cuda13-plugin-0.12.0",
        "nvidia-cuda-runtime-13.0.96",
    )
    s = compat_of_inventory(read_inventory(str(root))).summary
    labels = {f.name: (f.label, str(f.cuda), f.how) for f in s.frameworks}
    assert labels["tensorflow"] == (
        "tensorflow 2.21.0 (cu125 build)",
        "12.5",
        "CUDA 12.5 from its Requires-Dist nvidia-cuda-runtime-cu12<13.0,>=12.5.82; the knowledge "
        "base has no TensorFlow kernel table",
    )
    assert labels["jax-cuda13-plugin"] == (
        "jax-cuda13-plugin 0.12.0 (CUDA 13 build)",  # not "cu130": the name tells the major only
        "13",
        "CUDA 13 from its name; the knowledge base has no JAX kernel table",
    )
    # TensorFlow's CUDA 12 build beside the CUDA 13 runtime of the JAX plugin: refused loudly
    assert [f.rule for f in s.findings] == ["framework-runtime-major"]


def test_jax_cuda12_plugin_label() -> None:
    root_dist = dist("jax-cuda12-plugin", "0.12.0")
    (fw,) = compat_of_inventory(inventory((root_dist,))).summary.frameworks
    assert fw.label == "jax-cuda12-plugin 0.12.0 (CUDA 12 build)"


@pytest.mark.parametrize(
    ("driver", "verdict", "ends"),
    [
        (
            "440.33.01",  # CUDA 10.2's driver, a new-feature branch
            Verdict.REFUSED,
            "; cuda_compat is set, but R440 is a new-feature branch: forward compatibility "
            "needs a long-term support or production branch",
        ),
        ("450.51.06", Verdict.FORWARD_COMPAT, None),  # R450: long-term support
        ("470.82.01", Verdict.FORWARD_COMPAT, "R470"),  # a branch the table does not list
    ],
)
def test_forward_compat_needs_a_supported_branch(
    driver: str, verdict: Verdict, ends: str | None
) -> None:
    image = inventory((dist("torch", "2.5.1+cu124"), dist("nvidia-cuda-runtime-cu12", "12.4.127")))
    t4 = pool("t4", driver, "7.5", "T4", cuda_compat=True)
    (result,) = compat_of_inventory(image, [t4]).pools
    assert result.verdict is verdict
    unknown = [limit for limit in result.limits if "does not know how NVIDIA designates" in limit]
    if verdict is Verdict.REFUSED:
        assert ends is not None and result.reason.endswith(ends)
    elif ends is None:
        assert unknown == []
    else:
        assert unknown == [
            f"the knowledge base does not know how NVIDIA designates driver branch {ends}: "
            "forward compatibility needs a long-term support or production branch"
        ]


def test_fleets_name_cloud_gpus() -> None:
    pools = {p.name: p for p in load_fleet(GPU_DATA / "new-gpus.fleet.toml", KB)}
    assert {n: (str(p.cc), p.datacenter) for n, p in pools.items()} == {
        "a10g": ("8.6", True),
        "v100s": ("7.0", True),
        "h20": ("9.0", True),
        "gb300": ("10.3", True),
        "rtx-pro-6000": ("12.0", False),  # the workstation editions; the server one has its name
    }


# --- every torch build the knowledge base knows, just inside and just outside its arch list


def _pools_around(b: TorchBuild) -> list[tuple[Pool, Verdict]]:
    """GPUs at the lowest architecture (runs), just below it (refused), and at a compute
    capability of the next major above the highest (runs only through PTX)."""
    driver = "595.71.05"  # NVIDIA's current production branch driver: above every floor
    low, high = min(b.archs), max(b.archs)
    out = [(pool("lowest", driver, str(low.cc)), Verdict.RUNS)]
    below = max((g.cc for g in KB.gpus if g.cc < low.cc), default=None)
    if below is not None:
        out.append((pool("below", driver, str(below)), Verdict.REFUSED))
    above = ComputeCapability(major=high.cc.major + 1, minor=0)
    out.append((pool("above", driver, str(above)), Verdict.RUNS if high.ptx else Verdict.REFUSED))
    return out


@pytest.mark.parametrize("build", KB.torch_builds, ids=lambda b: f"{b.torch}-{b.cuda}")
def test_every_torch_build_around_its_arch_list(build: TorchBuild) -> None:
    cuda = build.cuda_version
    runtime = f"nvidia-cuda-runtime-cu{cuda.major}"
    image = inventory((dist("torch", f"{build.torch}.0+{build.cuda}"), dist(runtime, f"{cuda}.0")))
    cases = _pools_around(build)
    report = compat_of_inventory(image, [p for p, _ in cases])
    archs = format_arch_list(build.archs)
    for (p, expected), result in zip(cases, report.pools, strict=True):
        assert result.verdict is expected, (p.name, p.cc, result.reason)
        if expected is Verdict.REFUSED:
            assert f"it builds for {archs}" in result.reason


def _locked(name: str, version: str) -> LockedPackage:
    return LockedPackage(
        name=canonicalize_name(name),
        raw_name=name,
        location=Location(file=Path("requirements.lock"), line=1),
        version=Version(version),
        specifier=f"=={version}",
    )


def test_the_plan_takes_its_cuda_from_the_runtime_not_nvjitlink() -> None:
    """A lock of torch 2.13.0's CUDA wheels: the label's CUDA version is the runtime's 13.0."""
    lock = (
        _locked("cuda-toolkit", "13.0.3"),
        _locked("nvidia-cuda-runtime", "13.0.96"),
        _locked("nvidia-nvjitlink", "13.5.37"),
        _locked("torch", "2.13.0"),
    )
    plan = cuda_of_packages(lock)
    assert plan is not None
    assert (plan.version, plan.min_driver, plan.source) == (
        "13.0",
        "580.65.06",
        "cuda-toolkit==13.0.3",
    )
    runtime_only = cuda_of_packages(lock[1:])
    assert runtime_only is not None and runtime_only.version == "13.0"


def test_nvml_names_of_cloud_gpus_keep_the_data_centre_flag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake(monkeypatch, "cloud-580")
    pools = host_pools(probe(), KB)
    assert [(p.gpu, KB.gpu(p.gpu or "") is not None, p.datacenter) for p in pools] == [
        ("NVIDIA A10G", True, True),
        ("Tesla V100S-PCIE-32GB", True, True),
        ("NVIDIA H800 PCIe", True, True),
        ("NVIDIA L20", True, True),
    ]
    assert [(g.name if (g := KB.gpu(p.gpu or "")) else None) for p in pools] == [
        "A10G",
        "V100S",
        "H800",
        "L20",
    ]
    root = metadata_rootfs(tmp_path / "rootfs", *TORCH_2_13_CUDA, "nvidia-nvjitlink-13.0.88")
    report = compat_of_inventory(read_inventory(str(root)), pools)
    assert [v.verdict for v in report.pools] == [
        Verdict.RUNS,
        Verdict.REFUSED,  # sm_70: neither torch 2.13's cu130 build nor CUDA 13 has code for it
        Verdict.RUNS,
        Verdict.RUNS,
    ]
